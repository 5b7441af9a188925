"""Redis going away and coming back: 503 pages within the timeout, then normal service."""

import time

from devstack import RedisServer, free_port
from tests.conftest import make_settings
from tests.storage_routes import body, serving_storage_app

REDIS_TIMEOUT = 0.5


async def test_pages_answer_503_while_redis_is_down_and_recover_without_restart() -> None:
    port = free_port()
    settings = make_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0", REDIS_TIMEOUT=REDIS_TIMEOUT)
    redis_server = RedisServer(port).start()
    try:
        async with serving_storage_app(settings) as app:
            client = app.test_client()
            await body(client, "/_test/set/idToken/before-outage")

            redis_server.stop()
            for path in ("/", "/profile", "/_test/get/idToken", "/sign-out"):
                started = time.monotonic()
                response = await client.get(path)
                text = await response.get_data(as_text=True)
                assert response.status_code == 503, (path, text)
                assert response.headers["Retry-After"] == "5"
                assert "session store is not reachable" in text and "Traceback" not in text
                assert time.monotonic() - started < REDIS_TIMEOUT + 5
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/healthz")).status_code == 200

            redis_server = RedisServer(port).start()
            assert (await client.get("/readyz")).status_code == 200
            assert await body(client, "/_test/get/idToken") == "<none>", "data was in memory only"
            await body(client, "/_test/set/idToken/after-outage")
            assert await body(client, "/_test/get/idToken") == "after-outage"
    finally:
        redis_server.stop()
