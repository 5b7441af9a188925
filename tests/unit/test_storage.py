"""The Logto Storage keeps the SDK's values in the Redis-backed server-side session."""

from collections.abc import AsyncIterator

import pytest
from quart import Quart
from quart.typing import ResponseReturnValue
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis

from app import create_app
from app.storage import SessionStorage
from tests.auth_actions import SESSION_COOKIE
from tests.conftest import make_settings


@pytest.fixture
async def storage_app(redis_url: str) -> AsyncIterator[Quart]:
    """The app plus routes that drive SessionStorage inside real requests."""
    app = create_app(make_settings(REDIS_URL=redis_url))
    storage = SessionStorage()

    @app.get("/_test/set/<key>/<value>")
    async def set_value(key: str, value: str) -> ResponseReturnValue:
        storage.set(key, value)
        return "ok"

    @app.get("/_test/get/<key>")
    async def get_value(key: str) -> ResponseReturnValue:
        return storage.get(key) or "<none>"

    @app.get("/_test/delete/<key>")
    async def delete_value(key: str) -> ResponseReturnValue:
        storage.delete(key)
        return "ok"

    async with app.test_app():
        yield app


async def body(client: QuartClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200
    return await response.get_data(as_text=True)


def session_cookie(client: QuartClient) -> str:
    values = [cookie.value for cookie in client.cookie_jar if cookie.name == SESSION_COOKIE]  # type: ignore[union-attr]
    assert len(values) == 1
    return values[0] or ""


async def test_values_round_trip_through_redis(storage_app: Quart, redis: Redis) -> None:
    client = storage_app.test_client()
    assert await body(client, "/_test/get/idToken") == "<none>"
    await body(client, "/_test/set/idToken/eyJ.token.value")
    assert await body(client, "/_test/get/idToken") == "eyJ.token.value"

    session_id = session_cookie(client)
    stored = await redis.get(f"session:{session_id}")
    assert stored is not None and "eyJ.token.value" in stored
    assert "eyJ" not in session_id, "the browser holds only an opaque id"
    assert len(session_id) >= 43, "at least 256 bits of url-safe base64"


async def test_delete_removes_the_value(storage_app: Quart, redis: Redis) -> None:
    client = storage_app.test_client()
    await body(client, "/_test/set/refreshToken/rt-1")
    await body(client, "/_test/set/idToken/it-1")
    await body(client, "/_test/delete/refreshToken")
    assert await body(client, "/_test/get/refreshToken") == "<none>"
    stored = await redis.get(f"session:{session_cookie(client)}")
    assert stored is not None and "rt-1" not in stored and "it-1" in stored


async def test_sessions_of_two_browsers_stay_apart(storage_app: Quart) -> None:
    alice, bob = storage_app.test_client(), storage_app.test_client()
    await body(alice, "/_test/set/idToken/alice-token")
    assert await body(bob, "/_test/get/idToken") == "<none>"
    assert await body(alice, "/_test/get/idToken") == "alice-token"
