"""Server-side sessions: ids, timeouts, TTLs, writes, corrupt data, cookie flags."""

import json
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis

from tests.conftest import make_settings
from tests.storage_routes import body, serving_storage_app, session_cookie

IDLE = 3600
LIFETIME = 7 * 24 * 3600


@pytest.fixture
async def app(redis_url: str) -> AsyncIterator[Quart]:
    """The app with short, distinct idle and absolute timeouts."""
    settings = make_settings(
        REDIS_URL=redis_url, SESSION_IDLE_TIMEOUT=IDLE, SESSION_LIFETIME=LIFETIME
    )
    async with serving_storage_app(settings) as served:
        yield served


async def signed_in_session(app: Quart) -> tuple[QuartClient, str]:
    """A client whose session holds an ID token, and that session's id."""
    client = app.test_client()
    await body(client, "/_test/set/idToken/a-token")
    return client, session_cookie(client)


async def test_made_up_session_id_is_never_adopted(app: Quart, redis: Redis) -> None:
    planted = secrets.token_urlsafe(32)
    client = app.test_client()
    client.set_cookie("localhost", "session", planted)
    await body(client, "/_test/set/idToken/a-token")
    issued = session_cookie(client)
    assert issued != planted
    assert not await redis.exists(f"session:{planted}")
    assert await redis.exists(f"session:{issued}")


async def test_reading_a_session_writes_nothing(app: Quart, redis: Redis) -> None:
    client, sid = await signed_in_session(app)
    data_before = await redis.get(f"session:{sid}")
    seen_before = await redis.get(f"session:{sid}:seen")
    for _ in range(3):
        assert await body(client, "/_test/get/idToken") == "a-token"
    assert await redis.get(f"session:{sid}") == data_before
    assert await redis.get(f"session:{sid}:seen") == seen_before


async def test_a_request_after_a_minute_refreshes_only_last_seen_and_ttl(
    app: Quart, redis: Redis
) -> None:
    client, sid = await signed_in_session(app)
    data_before = await redis.get(f"session:{sid}")
    await redis.set(f"session:{sid}:seen", time.time() - 120, ex=100)
    await redis.expire(f"session:{sid}", 100)
    assert await body(client, "/_test/get/idToken") == "a-token"
    seen = float(await redis.get(f"session:{sid}:seen") or 0)
    assert time.time() - seen < 5
    assert await redis.get(f"session:{sid}") == data_before, "data not rewritten"
    assert IDLE - 10 < await redis.ttl(f"session:{sid}") <= IDLE


async def test_ttl_mirrors_the_idle_timeout(app: Quart, redis: Redis) -> None:
    _, sid = await signed_in_session(app)
    for key in (f"session:{sid}", f"session:{sid}:seen"):
        assert IDLE - 10 < await redis.ttl(key) <= IDLE


async def test_ttl_never_outlives_the_absolute_lifetime(app: Quart, redis: Redis) -> None:
    client, sid = await signed_in_session(app)
    data = json.loads(await redis.get(f"session:{sid}") or "{}")
    data["_created"] = time.time() - LIFETIME + 600  # ten minutes left
    await redis.set(f"session:{sid}", json.dumps(data))
    await body(client, "/_test/set/refreshToken/changed")
    assert 500 < await redis.ttl(f"session:{sid}") <= 600


async def test_idle_session_is_over(app: Quart, redis: Redis) -> None:
    client, sid = await signed_in_session(app)
    await redis.set(f"session:{sid}:seen", time.time() - IDLE - 1)
    assert await body(client, "/_test/get/idToken") == "<none>"
    assert not await redis.exists(f"session:{sid}")


async def test_session_past_its_lifetime_is_over(app: Quart, redis: Redis) -> None:
    client, sid = await signed_in_session(app)
    data = json.loads(await redis.get(f"session:{sid}") or "{}")
    data["_created"] = time.time() - LIFETIME - 1
    await redis.set(f"session:{sid}", json.dumps(data))
    assert await body(client, "/_test/get/idToken") == "<none>"
    assert not await redis.exists(f"session:{sid}")


@pytest.mark.parametrize(
    "stored",
    ["not json", "[1, 2]", '"text"', "{", '{"_created": "soon"}', '{" d": "x"}', "null"],
)
async def test_corrupt_stored_session_starts_afresh(app: Quart, redis: Redis, stored: str) -> None:
    client, sid = await signed_in_session(app)
    await redis.set(f"session:{sid}", stored)
    assert await body(client, "/_test/get/idToken") == "<none>"
    home = await client.get("/")
    assert home.status_code == 200


async def test_https_cookie_is_host_prefixed_secure_httponly_lax(redis_url: str) -> None:
    settings = make_settings(REDIS_URL=redis_url, BASE_URL="https://app.example")
    async with serving_storage_app(settings) as app:
        response = await app.test_client().get("/_test/set/idToken/x")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    parts = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "path", "samesite", "expires"} <= parts
    assert "domain" not in parts
    assert "Path=/;" in cookie + ";" and "SameSite=Lax" in cookie


async def test_http_cookie_drops_only_what_http_forbids(app: Quart) -> None:
    response = await app.test_client().get("/_test/set/idToken/x")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    parts = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= parts
    assert "secure" not in parts and "domain" not in parts
