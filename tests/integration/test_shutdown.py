"""SIGTERM, as Procfile platforms send it: requests in flight finish, their session writes land.

The slow request is a sign-in callback whose code exchange the provider holds for a while:
the hostile provider (a fake, see tests/hostile_provider.py) is the one that can be told to
answer its token endpoint slowly; the real local provider cannot.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

from app.serve import SHUTDOWN_SLACK, graceful_timeout_for
from app.sessions.data import sdk_value
from app.sessions.store import SessionStore
from devstack import AppServer, LocalIdp, free_port
from tests.auth_actions import SESSION_COOKIE
from tests.conftest import make_settings, production_settings, server_settings
from tests.hostile_provider import CLIENT_ID, CLIENT_SECRET, USER, HostileProvider
from tests.server_processes import serve_process, worker_processes
from tests.stored_session import stored

TOKEN_DELAY = 2.0  # seconds the provider holds the code exchange
# The Procfile's bound with the default timeouts, and the time to close pools and exit.
EXIT_BOUND = graceful_timeout_for(make_settings()) + SHUTDOWN_SLACK


@pytest.fixture
async def slow_provider() -> AsyncIterator[HostileProvider]:
    """A provider whose token endpoint the test can slow down."""
    async with HostileProvider() as provider:
        yield provider


def hostile_settings(provider: HostileProvider, redis_url: str, port: int) -> dict[str, str]:
    """Production settings for an app on `port` that signs in through `provider`."""
    return production_settings(provider.endpoint, (CLIENT_ID, CLIENT_SECRET), redis_url, port)


@pytest.mark.parametrize(
    ("workers", "sent_to"), [(2, "group"), (2, "main"), (1, "group"), (1, "main")]
)
async def test_a_sign_in_in_flight_completes_and_is_stored_after_sigterm(
    workers: int, sent_to: str, slow_provider: HostileProvider, redis_url: str, store: SessionStore
) -> None:
    port = free_port()
    server = AppServer(hostile_settings(slow_provider, redis_url, port), port=port, workers=workers)
    await asyncio.to_thread(server.start)  # the provider answers from this event loop
    try:
        assert server.pid is not None
        await until(lambda: len(worker_processes(server.pid or 0)) == workers)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(f"{server.url}/sign-in", allow_redirects=False) as started:
                assert started.status == 302
            callback = await slow_provider.authorize(started.headers["Location"])
            slow_provider.token_delay = TOKEN_DELAY
            in_flight = asyncio.create_task(visit(browser, f"{server.url}{callback}"))
            await until(lambda: slow_provider.grants["authorization_code"] == 1)

            signalled = time.monotonic()
            if sent_to == "group":  # Heroku and `kill -TERM -<pgid>`: every process
                os.killpg(server.pid, signal.SIGTERM)
            else:  # docker stop, systemd: the Procfile command's process only
                os.kill(serve_process(server.pid), signal.SIGTERM)

            status, location, session_id = await in_flight
        assert (status, location) == (302, "/")
        session = await stored(store, session_id)  # the session write landed in Redis
        assert session.belongs_to(USER["sub"]) and sdk_value(session.data, "idToken")

        code = await asyncio.to_thread(server.wait, EXIT_BOUND)
        took = time.monotonic() - signalled
        assert code == 0, server.output()
        assert TOKEN_DELAY * 0.5 < took < EXIT_BOUND, took
    finally:
        await asyncio.to_thread(server.stop)


async def test_an_idle_server_stops_at_once_on_sigterm(idp: LocalIdp, redis_url: str) -> None:
    port = free_port()
    server = AppServer(server_settings(idp, redis_url, port), port=port, workers=2)
    await asyncio.to_thread(server.start)
    try:
        assert server.pid is not None
        signalled = time.monotonic()
        os.kill(serve_process(server.pid), signal.SIGTERM)
        assert await asyncio.to_thread(server.wait, EXIT_BOUND) == 0
        assert time.monotonic() - signalled < 3, "nothing in flight: no grace period used"
    finally:
        await asyncio.to_thread(server.stop)


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Wait until `condition()` is true, at most `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def visit(browser: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    """GET `url` without following redirects: the status, Location and session cookie."""
    async with browser.get(url, allow_redirects=False) as response:
        cookie = response.cookies.get(SESSION_COOKIE)
        return response.status, response.headers.get("Location", ""), cookie.value if cookie else ""
