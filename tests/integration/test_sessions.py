"""Server-side sessions: ids, timeouts, TTLs, writes, corrupt data, cookie flags."""

import json
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis

from app.sessions.data import CREATED
from app.sessions.store import SessionStore, session_keys
from tests.conftest import make_settings
from tests.home_page import is_signed_out
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
    assert not await redis.exists(session_keys(planted)[0])
    assert await redis.exists(session_keys(issued)[0])


async def test_reading_a_session_writes_nothing(app: Quart, redis: Redis) -> None:
    client, sid = await signed_in_session(app)
    data_before = await redis.get(session_keys(sid)[0])
    seen_before = await redis.get(session_keys(sid)[1])
    for _ in range(3):
        assert await body(client, "/_test/get/idToken") == "a-token"
    assert await redis.get(session_keys(sid)[0]) == data_before
    assert await redis.get(session_keys(sid)[1]) == seen_before


async def test_a_request_after_a_minute_refreshes_only_last_seen_and_ttl(
    app: Quart, redis: Redis
) -> None:
    client, sid = await signed_in_session(app)
    data_before = await redis.get(session_keys(sid)[0])
    await redis.set(session_keys(sid)[1], time.time() - 120, ex=100)
    await redis.expire(session_keys(sid)[0], 100)
    assert await body(client, "/_test/get/idToken") == "a-token"
    seen = float(await redis.get(session_keys(sid)[1]) or 0)
    assert time.time() - seen < 5
    assert await redis.get(session_keys(sid)[0]) == data_before, "data not rewritten"
    assert IDLE - 10 < await redis.ttl(session_keys(sid)[0]) <= IDLE


async def test_ttl_mirrors_the_idle_timeout(app: Quart, redis: Redis) -> None:
    _, sid = await signed_in_session(app)
    for key in (session_keys(sid)[0], session_keys(sid)[1]):
        assert IDLE - 10 < await redis.ttl(key) <= IDLE


async def started_at(store: SessionStore, sid: str, when: float) -> None:
    """Rewrite session `sid` as begun at `when`, its data key left without a TTL (the store
    itself would set one): only the app's own checks can then end it."""
    data = await store.load(sid)
    assert data is not None
    data[CREATED] = when
    await store.redis.set(session_keys(sid)[0], store.serializer.dumps(data))


async def test_ttl_never_outlives_the_absolute_lifetime(
    app: Quart, redis: Redis, store: SessionStore
) -> None:
    client, sid = await signed_in_session(app)
    await started_at(store, sid, time.time() - LIFETIME + 600)  # ten minutes left
    await body(client, "/_test/set/refreshToken/changed")
    assert 500 < await redis.ttl(session_keys(sid)[0]) <= 600


async def test_idle_session_is_over(app: Quart, redis: Redis) -> None:
    client, sid = await signed_in_session(app)
    await redis.set(session_keys(sid)[1], time.time() - IDLE - 1)
    assert await body(client, "/_test/get/idToken") == "<none>"
    assert not await redis.exists(session_keys(sid)[0])


async def test_session_past_its_lifetime_is_over(
    app: Quart, redis: Redis, store: SessionStore
) -> None:
    client, sid = await signed_in_session(app)
    await started_at(store, sid, time.time() - LIFETIME - 1)
    assert await body(client, "/_test/get/idToken") == "<none>"
    assert not await redis.exists(session_keys(sid)[0])


@pytest.mark.parametrize(
    "stored",
    ["not json", "[1, 2]", '"text"', "{", json.dumps({CREATED: "soon"}), '{" d": "x"}', "null"],
)
async def test_corrupt_stored_session_starts_afresh(app: Quart, redis: Redis, stored: str) -> None:
    client, sid = await signed_in_session(app)
    await redis.set(session_keys(sid)[0], stored)
    assert await body(client, "/_test/get/idToken") == "<none>"
    assert await is_signed_out(client)


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
