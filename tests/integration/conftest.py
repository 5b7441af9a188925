"""Fixtures for the tests that sign in through the hostile provider."""

from collections.abc import AsyncIterator

import pytest
from quart import Quart

from tests.hostile_provider import HostileProvider, serving_app


@pytest.fixture
async def hostile() -> AsyncIterator[HostileProvider]:
    """A provider that issues valid tokens until the test makes it misbehave."""
    async with HostileProvider() as provider:
        yield provider


@pytest.fixture
async def hostile_app(redis_url: str, hostile: HostileProvider) -> AsyncIterator[Quart]:
    """The app in-process, signing in through the hostile provider."""
    async with serving_app(hostile, redis_url) as application:
        yield application
