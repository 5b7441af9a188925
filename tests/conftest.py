"""Shared fixtures: real Redis, app factory with test settings, test client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis

from app import create_app
from app.config import Settings
from devstack.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: REDIS_URL when CI provides one, else the pip-installed server."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    with RedisServer() as server:
        yield server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client on the test Redis, for looking at what the app stored."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def make_settings(**overrides: object) -> Settings:
    """Test settings that ignore the developer's `.env`."""
    values: dict[str, object] = {"APP_ENV": "test", "SECRET_KEY": "test-secret-key", **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.fixture
async def app(redis_url: str) -> AsyncIterator[Quart]:
    """The app from the factory on the test Redis, with its start-up hooks run."""
    application = create_app(make_settings(REDIS_URL=redis_url))
    async with application.test_app():
        yield application


@pytest.fixture
def client(app: Quart) -> QuartClient:
    """A test client for `app`."""
    return app.test_client()
