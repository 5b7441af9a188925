"""The per-worker session cache never serves a stale sign-in (properties 1-3 of its design).

Two app instances (think: two hosts) with two workers each on one real Redis and the real
local provider. One instance is loaded with a browser's cookie while the session ends on the
other; every request is judged by when it started. Redis is flushed, restarted and frozen
(SIGSTOP) under the same load.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from redis.asyncio import Redis

from devstack import AppServer, LocalIdp, RedisServer, free_port
from tests.auth_actions import AuthActions, forms_of
from tests.conftest import provider_for, server_settings
from tests.home_page import shows_signed_out, signed_in_user
from tests.integration.test_tokens import refresh_grants

STALE_WINDOW = 0.1  # seconds after an ending completes when no request may be signed in
LOAD_SECONDS = 2.5
CONCURRENCY = 8
REDIS_TIMEOUT = 1.0


@dataclass(frozen=True)
class Answer:
    """One request of the load: when it started and whether it was served signed in."""

    started: float
    status: int
    signed_in: bool
    finished: float = 0.0


@dataclass
class Hosts:
    """The provider, the Redis, and the two app instances (ports known to the provider)."""

    idp: LocalIdp
    redis: RedisServer
    first: AppServer
    second: AppServer


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    """Two instances of two workers each on an own Redis (restarted and frozen in tests)."""
    ports = [free_port(), free_port()]
    redis = RedisServer().start()
    try:
        with provider_for(ports) as idp:
            settings = [
                {**server_settings(idp, redis.url, port), "REDIS_TIMEOUT": str(REDIS_TIMEOUT)}
                for port in ports
            ]
            with (
                AppServer(settings[0], port=ports[0], workers=2) as first,
                AppServer(settings[1], port=ports[1], workers=2) as second,
            ):
                hosts = Hosts(idp, redis, first, second)
                yield hosts
                redis = hosts.redis  # a test may have restarted it
    finally:
        redis.stop()


@pytest.fixture
async def browser(hosts: Hosts) -> AsyncIterator[AuthActions]:
    """A browser on the first instance."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        yield AuthActions(hosts.first.url, http)


async def load(
    url: str, cookie: str, stop: asyncio.Event, seconds: float = LOAD_SECONDS
) -> list[Answer]:
    """GET / with `cookie` from CONCURRENCY clients until `stop` is set or `seconds` pass."""
    answers: list[Answer] = []
    deadline = time.monotonic() + seconds
    timeout = aiohttp.ClientTimeout(total=REDIS_TIMEOUT * 4)

    async def client() -> None:
        async with aiohttp.ClientSession(cookies={"session": cookie}, timeout=timeout) as http:
            while not stop.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    async with http.get(url + "/", allow_redirects=False) as response:
                        text = await response.text()
                        status = response.status
                except (TimeoutError, aiohttp.ClientError):
                    status, text = 0, ""
                signed_in = signed_in_user(status, text) is not None
                answers.append(Answer(started, status, signed_in, time.monotonic()))

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return answers


async def under_load(
    hosts: Hosts, cookie: str, action: Callable[[], Awaitable[object]]
) -> tuple[list[Answer], float]:
    """Load the second instance with `cookie`, run `action` half-way; the answers and when
    the action completed."""
    stop = asyncio.Event()
    loading = asyncio.create_task(load(hosts.second.url, cookie, stop))
    await asyncio.sleep(LOAD_SECONDS / 3)
    await action()
    completed = time.monotonic()
    await asyncio.sleep(LOAD_SECONDS / 3)
    stop.set()
    return await loading, completed


def assert_never_stale(answers: list[Answer], completed: float) -> None:
    """Signed in before the ending; never signed in for a request started after the window."""
    before = [a for a in answers if a.started < completed - STALE_WINDOW]
    after = [a for a in answers if a.started > completed + STALE_WINDOW]
    assert any(a.signed_in for a in before), "the load was served signed in before"
    assert after, "the load went on after the ending"
    stale = [a for a in after if a.signed_in]
    assert not stale, f"{len(stale)} of {len(after)} later requests were served signed in"


async def ready(hosts: Hosts, seconds: float = 10.0) -> None:
    """Wait until both instances answer /readyz with 200 (their Redis connections renewed)."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        for app in (hosts.first, hosts.second):
            while True:
                async with http.get(app.url + "/readyz") as response:
                    if response.status == 200:
                        break
                assert time.monotonic() < deadline, f"{app.url} is not ready"
                await asyncio.sleep(0.1)


async def signed_in_cookie(browser: AuthActions, username: str) -> str:
    landed = await browser.sign_in(username)
    assert signed_in_user(landed.status, landed.text), landed.text
    cookie = browser.session_id()
    assert cookie is not None
    return cookie


async def post_form(browser: AuthActions, page_path: str, action_suffix: str) -> None:
    page = await browser.get(page_path)
    form = next(f for f in forms_of(page.text) if f.action.endswith(action_suffix))
    await browser.submit(page, form)


async def test_sign_out_on_one_host_is_seen_by_every_worker_of_the_other(
    hosts: Hosts, browser: AuthActions
) -> None:
    cookie = await signed_in_cookie(browser, "cache-sign-out")
    answers, completed = await under_load(hosts, cookie, lambda: browser.sign_out())
    assert_never_stale(answers, completed)


async def test_ending_a_session_on_the_sessions_page_is_seen_everywhere(
    hosts: Hosts, browser: AuthActions
) -> None:
    cookie = await signed_in_cookie(browser, "cache-ended")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        other = AuthActions(hosts.first.url, http)
        await signed_in_cookie(other, "cache-ended")

        async def end_the_first() -> None:
            page = await other.get("/sessions")
            forms = [f for f in forms_of(page.text) if f.action.endswith("/end")]
            # The other browser's own session is listed first; end the remaining one.
            await other.submit(page, forms[-1])

        answers, completed = await under_load(hosts, cookie, end_the_first)
    assert_never_stale(answers, completed)


async def test_sign_out_everywhere_is_seen_everywhere(hosts: Hosts, browser: AuthActions) -> None:
    cookie = await signed_in_cookie(browser, "cache-everywhere")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        other = AuthActions(hosts.first.url, http)
        await signed_in_cookie(other, "cache-everywhere")
        answers, completed = await under_load(
            hosts, cookie, lambda: post_form(other, "/sessions", "/sign-out/everywhere")
        )
    assert_never_stale(answers, completed)


async def test_back_channel_logout_is_seen_everywhere(hosts: Hosts, browser: AuthActions) -> None:
    cookie = await signed_in_cookie(browser, "cache-backchannel")

    async def sign_out_at_the_provider() -> None:
        # The provider's own end-session page; it posts the logout token to the first host.
        page = await browser.get(f"{hosts.idp.issuer}/session/end")
        forms = forms_of(page.text)
        await browser.submit(page, forms[0])
        await asyncio.sleep(0.3)  # the provider delivers the logout token on its own time

    answers, completed = await under_load(hosts, cookie, sign_out_at_the_provider)
    # Completed means: the provider's back-channel call came back; allow its delivery time.
    assert_never_stale(answers, completed)


async def test_flushall_is_seen_at_once(hosts: Hosts, browser: AuthActions) -> None:
    cookie = await signed_in_cookie(browser, "cache-flushall")
    redis = Redis.from_url(hosts.redis.url)

    async def flushall() -> None:
        await redis.flushall()

    try:
        answers, completed = await under_load(hosts, cookie, flushall)
    finally:
        await redis.aclose()
    assert_never_stale(answers, completed)


async def test_a_frozen_redis_is_not_papered_over_and_recovery_needs_no_restart(
    hosts: Hosts, browser: AuthActions
) -> None:
    await ready(hosts)
    cookie = await signed_in_cookie(browser, "cache-frozen")
    pid = hosts.redis.pid
    assert pid is not None
    stop = asyncio.Event()
    loading = asyncio.create_task(
        load(hosts.second.url, cookie, stop, seconds=4 * REDIS_TIMEOUT + 3)
    )
    await asyncio.sleep(0.5)
    os.kill(pid, signal.SIGSTOP)
    frozen = time.monotonic()
    try:
        await asyncio.sleep(3 * REDIS_TIMEOUT)
    finally:
        thawed = time.monotonic()
        os.kill(pid, signal.SIGCONT)
    await asyncio.sleep(2.0)
    stop.set()
    answers = await loading

    # While frozen, nothing in memory may stand in for Redis for more than about REDIS_TIMEOUT:
    # no request answered signed in before the thaw may have started after that.
    papered = [
        a
        for a in answers
        if frozen + 1.5 * REDIS_TIMEOUT < a.started and a.finished < thawed and a.signed_in
    ]
    assert not papered, (
        f"{len(papered)} served signed in from memory while frozen {frozen:.3f}-{thawed:.3f}: "
        f"{[round(a.started, 3) for a in papered]}"
    )
    assert any(a.status == 503 for a in answers if frozen < a.started < thawed)
    recovered = [a for a in answers if a.started > thawed + REDIS_TIMEOUT]
    assert recovered and all(a.signed_in for a in recovered), "signed in again, same processes"
    assert hosts.second.running


async def test_a_refresh_on_one_host_is_what_the_other_uses_next(
    redis_url: str, http: aiohttp.ClientSession
) -> None:
    """Read-your-writes: the second host uses the tokens the first refreshed (no refresh of
    its own, which would spend a used refresh token and end the grant)."""
    ports = [free_port(), free_port()]
    with provider_for(ports, access_token_ttl=2) as idp:
        settings = [server_settings(idp, redis_url, port) for port in ports]
        with (
            AppServer(settings[0], port=ports[0], workers=2) as first,
            AppServer(settings[1], port=ports[1], workers=2) as second,
        ):
            one = AuthActions(first.url, http)
            await signed_in_cookie(one, "cache-refresh")
            other = AuthActions(second.url, http)
            assert (await other.get("/call-api")).status == 200  # warms the second's cache
            await asyncio.sleep(2.2)  # the API token is stale
            assert (await one.get("/call-api")).status == 200  # the first host refreshes
            grants = await refresh_grants(idp, http)
            for _ in range(5):
                page = await other.get("/call-api")
                assert page.status == 200 and 'id="api-status">200<' in page.text
            assert await refresh_grants(idp, http) == grants, "the second refreshed again"


# Last: after a restart, each pooled connection of the apps fails once (503) before it is
# renewed, which would disturb the tests above.
async def test_a_redis_restart_without_persistence_signs_everyone_out(
    hosts: Hosts, browser: AuthActions
) -> None:
    cookie = await signed_in_cookie(browser, "cache-restart")

    async def restart() -> None:
        await asyncio.to_thread(hosts.redis.stop)
        hosts.redis = await asyncio.to_thread(RedisServer(port=hosts.redis.port).start)

    answers, completed = await under_load(hosts, cookie, restart)
    assert_never_stale(answers, completed)
    await ready(hosts)
    async with (
        aiohttp.ClientSession(cookies={"session": cookie}) as http,
        http.get(hosts.second.url + "/") as response,
    ):
        assert shows_signed_out(response.status, await response.text()), "served, signed out"
