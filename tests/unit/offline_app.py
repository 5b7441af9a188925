"""The app in-process with nothing to reach: for unit tests that need neither Redis nor Logto."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from quart import Quart

from app import create_app
from devstack.ports import free_port
from tests.conftest import make_settings

# A well-formed session id (43 url-safe characters): the app looks it up in Redis.
SESSION_ID = "A" * 43


def nowhere() -> str:
    """A loopback address with nothing listening (connections are refused at once)."""
    return f"127.0.0.1:{free_port()}"


@asynccontextmanager
async def offline_app(**settings: object) -> AsyncIterator[Quart]:
    """The app with its start-up hooks run, its Redis and provider unreachable.

    A request without a session cookie needs neither; one with a session cookie gets the
    Redis outage page.
    """
    app = create_app(
        make_settings(
            REDIS_URL=f"redis://{nowhere()}/0", LOGTO_ENDPOINT=f"http://{nowhere()}", **settings
        )
    )
    async with app.test_app():
        yield app
