"""A Redis failure anywhere in a request is the 503 page with Retry-After, never a 500."""

from __future__ import annotations

import html
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from quart.wrappers import Response
from redis.asyncio import Redis

from devstack import LocalIdp, RedisServer, free_port
from tests.home_page import is_signed_out
from tests.in_process_sign_in import in_process_settings, serving_in_process, sign_in_in_process
from tests.storage_routes import add_storage_routes, body

REDIS_TIMEOUT = 0.5


@pytest.fixture
async def app_without_redis(idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app (on the real provider) whose REDIS_URL points at a port where nothing listens."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = in_process_settings(idp, url, app_ports, REDIS_TIMEOUT=REDIS_TIMEOUT)
    async with serving_in_process(settings) as app:
        yield app


async def assert_outage_page(client: QuartClient, path: str) -> None:
    """GET `path` answers the 503 page with Retry-After and sets no cookie."""
    await assert_is_outage_page(await client.get(path), path)


async def assert_is_outage_page(response: Response, path: str) -> None:
    """`response` (to a request for `path`) is the 503 page with Retry-After, no redirect."""
    text = html.unescape(await response.get_data(as_text=True))
    assert response.status_code == 503, (path, text)
    assert response.headers["Retry-After"] == "5"
    assert "Location" not in response.headers
    assert "session store is not reachable" in text
    assert "Traceback" not in text and 'File "' not in text


@pytest.mark.parametrize(
    ("path", "goes_to"),
    [("/sign-in", "/oidc/auth?"), ("/sign-up", "/oidc/auth?"), ("/profile", "/sign-in?next=")],
)
async def test_cookieless_pages_need_no_redis(
    app_without_redis: Quart, path: str, goes_to: str
) -> None:
    response = await app_without_redis.test_client().get(path)
    assert response.status_code == 302, await response.get_data(as_text=True)
    assert goes_to in response.headers["Location"]


async def test_static_files_and_liveness_need_no_redis(app_without_redis: Quart) -> None:
    client = app_without_redis.test_client()
    assert (await client.get("/static/app.css")).status_code == 200
    assert (await client.get("/healthz")).status_code == 200
    assert await is_signed_out(client), "the signed-out home page, read from no session"


async def test_callback_while_redis_is_down_is_the_outage_page(
    app_without_redis: Quart, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_without_redis.test_client()
    with caplog.at_level(logging.WARNING):
        callback = await sign_in_in_process(client, http, "redis-is-down")
        await assert_is_outage_page(callback, "/callback")
    assert not [record for record in caplog.records if record.exc_info], "no traceback logged"


async def test_a_session_write_that_fails_after_the_view_ran_is_the_outage_page(
    own_redis: RedisServer, idp: LocalIdp, app_ports: list[int]
) -> None:
    settings = in_process_settings(idp, own_redis.url, app_ports, REDIS_TIMEOUT=REDIS_TIMEOUT)
    async with serving_in_process(settings) as app:
        add_storage_routes(app)
        client = app.test_client()
        await body(client, "/_test/set/idToken/before")
        redis = Redis.from_url(own_redis.url)
        try:
            # Reads go on, writes stall past REDIS_TIMEOUT: the session is read, the write fails.
            await redis.client_pause(3000, all=False)  # WRITE only
            await assert_outage_page(client, "/_test/set/idToken/during")
            await redis.client_unpause()
        finally:
            await redis.aclose()
        # The write timed out on our side; Redis may still apply it once unpaused. Either way
        # the session is whole: the old value or the new one, never lost or signed out.
        assert await body(client, "/_test/get/idToken") in {"before", "during"}


async def test_readiness_names_no_internal_address(app_without_redis: Quart) -> None:
    response = await app_without_redis.test_client().get("/readyz")
    text = await response.get_data(as_text=True)
    assert response.status_code == 503
    assert await response.get_json() == {"status": "unavailable", "redis": "unavailable"}
    assert "127.0.0.1" not in text and "connect" not in text.lower()
