"""Test-only routes that drive SessionStorage inside real requests, and helpers to call them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from quart import Quart
from quart.typing import ResponseReturnValue
from quart.typing import TestClientProtocol as QuartClient

from app import create_app
from app.config import Settings
from app.storage import SessionStorage
from tests.auth_actions import SESSION_COOKIE


def add_storage_routes(app: Quart) -> None:
    """Add /_test/set, /_test/get and /_test/delete over one SessionStorage."""
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


@asynccontextmanager
async def serving_storage_app(settings: Settings) -> AsyncIterator[Quart]:
    """The app from `settings` with the storage routes, its start-up hooks run."""
    app = create_app(settings)
    add_storage_routes(app)
    async with app.test_app():
        yield app


async def body(client: QuartClient, path: str) -> str:
    """GET `path`, expect 200, return the text."""
    response = await client.get(path)
    assert response.status_code == 200
    return await response.get_data(as_text=True)


def session_cookie(client: QuartClient, name: str = SESSION_COOKIE) -> str:
    """The session id the client's cookie jar holds."""
    values = [cookie.value for cookie in client.cookie_jar if cookie.name == name]  # type: ignore[union-attr]
    assert len(values) == 1, values
    return values[0] or ""
