"""Fixtures of the integration tests: the app in-process on the real provider or the hostile
one, browser profiles, and a Redis of a test's own."""

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from quart import Quart

from devstack import LocalIdp, RedisServer
from tests.hostile_provider import HostileProvider, serving_app
from tests.in_process_sign_in import in_process_settings, serving_in_process


@pytest.fixture
async def idp_app(redis_url: str, idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app in-process on the test Redis, signing in through the real local provider."""
    async with serving_in_process(in_process_settings(idp, redis_url, app_ports)) as application:
        yield application


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


@pytest.fixture
async def browsers() -> AsyncIterator[list[aiohttp.ClientSession]]:
    """Four separate browser profiles (cookie jars that keep cookies for 127.0.0.1)."""
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in "abcd"]
    yield sessions
    for session in sessions:
        await session.close()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own: its memory, size and pauses concern that test alone."""
    with RedisServer() as server:
        yield server
