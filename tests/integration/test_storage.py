"""The Logto Storage keeps the SDK's values in the Redis-backed server-side session."""

from collections.abc import AsyncIterator

import pytest
from quart import Quart

from app.sessions.data import sdk_value
from app.sessions.store import SessionStore
from tests.conftest import make_settings
from tests.storage_routes import body, serving_storage_app, session_cookie
from tests.stored_session import stored


@pytest.fixture
async def storage_app(redis_url: str) -> AsyncIterator[Quart]:
    """The app plus routes that drive SessionStorage inside real requests."""
    async with serving_storage_app(make_settings(REDIS_URL=redis_url)) as app:
        yield app


async def test_values_round_trip_through_redis(storage_app: Quart, store: SessionStore) -> None:
    client = storage_app.test_client()
    assert await body(client, "/_test/get/idToken") == "<none>"
    await body(client, "/_test/set/idToken/eyJ.token.value")
    assert await body(client, "/_test/get/idToken") == "eyJ.token.value"

    session_id = session_cookie(client)
    assert sdk_value((await stored(store, session_id)).data, "idToken") == "eyJ.token.value"
    assert "eyJ" not in session_id, "the browser holds only an opaque id"
    assert len(session_id) >= 43, "at least 256 bits of url-safe base64"


async def test_delete_removes_the_value(storage_app: Quart, store: SessionStore) -> None:
    client = storage_app.test_client()
    await body(client, "/_test/set/refreshToken/rt-1")
    await body(client, "/_test/set/idToken/it-1")
    await body(client, "/_test/delete/refreshToken")
    assert await body(client, "/_test/get/refreshToken") == "<none>"
    data = (await stored(store, session_cookie(client))).data
    assert sdk_value(data, "refreshToken") is None and sdk_value(data, "idToken") == "it-1"
    assert "rt-1" not in str(data), "nothing of the deleted value is left"


async def test_sessions_of_two_browsers_stay_apart(storage_app: Quart) -> None:
    alice, bob = storage_app.test_client(), storage_app.test_client()
    await body(alice, "/_test/set/idToken/alice-token")
    assert await body(bob, "/_test/get/idToken") == "<none>"
    assert await body(alice, "/_test/get/idToken") == "alice-token"
