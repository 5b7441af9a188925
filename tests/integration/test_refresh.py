"""Access-token refresh: single-flight per session across processes (tokens rotate), and never
for a session that Logto refused or that ended meanwhile."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from redis.asyncio import Redis

from app.sessions.store import SessionStore
from devstack import AppServer, LocalIdp, free_port
from tests.auth_actions import AuthActions
from tests.conftest import provider_for, server_settings
from tests.home_page import shows_signed_out, signed_in_user
from tests.provider_calls import refresh, revoke
from tests.stored_session import stored_refresh_token

# Short-lived access tokens: kept until 1 s before they expire, so after `stale_tokens()`
# the next userinfo call needs a refresh.
ACCESS_TOKEN_TTL = 2


async def stale_tokens() -> None:
    """Wait until every access token issued so far is past its use."""
    await asyncio.sleep(ACCESS_TOKEN_TTL + 0.2)


@pytest.fixture(scope="module")
def rotating_stack(redis_url: str) -> Iterator[tuple[LocalIdp, list[AppServer]]]:
    """A provider with short-lived access tokens and two app processes on one Redis."""
    ports = [free_port(), free_port()]
    with provider_for(ports, access_token_ttl=ACCESS_TOKEN_TTL) as idp:
        servers = [
            AppServer(server_settings(idp, redis_url, port), port=port, workers=1).start()
            for port in ports
        ]
        try:
            yield idp, servers
        finally:
            for server in servers:
                server.stop()


@pytest.fixture
def rotating_idp(rotating_stack: tuple[LocalIdp, list[AppServer]]) -> LocalIdp:
    """The provider of the rotating stack."""
    return rotating_stack[0]


@pytest.fixture
def hosts(
    rotating_stack: tuple[LocalIdp, list[AppServer]], http: aiohttp.ClientSession
) -> list[AuthActions]:
    """One browser profile on each app process of the rotating stack."""
    return [AuthActions(server.url, http) for server in rotating_stack[1]]


async def test_concurrent_refreshes_in_two_processes_spend_each_refresh_token_once(
    hosts: list[AuthActions], store: SessionStore
) -> None:
    first, second = hosts
    await first.sign_in("rotator")
    refresh_tokens = set()

    for _ in range(3):
        await stale_tokens()
        pages = await asyncio.gather(*(host.get("/profile") for host in [first, second] * 4))
        assert [page.status for page in pages] == [200] * 8
        assert all('id="user-info-error"' not in page.text for page in pages)
        assert all(page.text.count("<th>username</th><td>rotator</td>") == 2 for page in pages)
        refresh_tokens.add(await stored_refresh_token(store, first.session_id() or ""))

    assert len(refresh_tokens) == 3, "each round rotated the refresh token"
    after = await second.get("/profile")
    assert after.status == 200 and "Profile of Rotator" in after.text, "the grant is still alive"


async def test_a_refresh_logto_refuses_signs_the_session_out(
    rotating_idp: LocalIdp, hosts: list[AuthActions], store: SessionStore
) -> None:
    idp, browser = rotating_idp, hosts[0]
    landed = await browser.sign_in("revoked")
    assert signed_in_user(landed.status, landed.text) == "Revoked"
    session_id = browser.session_id() or ""
    refresh_token = await stored_refresh_token(store, session_id)
    # Logto revokes the grant (the user or an admin ended it there), RFC 7009.
    revoked = await revoke(idp, refresh_token)
    assert revoked.status == 200, revoked.body
    refused = await refresh(idp, refresh_token)
    assert refused.status == 400 and refused.body.get("error") == "invalid_grant", refused.body

    await stale_tokens()
    profile = await browser.get("/profile")  # the stale access token needs a refresh: refused

    assert profile.status == 401 and "Your sign-in has expired" in profile.text, profile.text
    assert await store.load(session_id) is None, "signed out here too"
    home = await browser.get("/")
    assert shows_signed_out(home.status, home.text)


async def test_a_session_that_ends_while_its_refresh_waits_is_not_refreshed(
    rotating_idp: LocalIdp, hosts: list[AuthActions], store: SessionStore, redis_url: str
) -> None:
    idp, browser = rotating_idp, hosts[0]
    await browser.sign_in("waiter")
    session_id = browser.session_id() or ""
    refresh_token = await stored_refresh_token(store, session_id)
    # Another worker is refreshing this session's tokens: it holds the lock.
    lock = store.refresh_lock(session_id, 30)
    assert await lock.acquire(blocking=False)
    lock_name = lock.name
    assert isinstance(lock_name, str)
    await stale_tokens()
    async with commands_seen(redis_url, f"SET {lock_name} ") as app_waits_for_the_lock:
        profile = asyncio.create_task(browser.get("/profile"))
        async with asyncio.timeout(10):
            await app_waits_for_the_lock.wait()  # it has read the session and needs a refresh
        # Meanwhile the session ends (signed out on another host), then the lock is free.
        await store.end(session_id)
        await lock.release()
        page = await profile

    assert page.status == 401 and "Your sign-in has expired" in page.text, page.text
    assert await store.load(session_id) is None, "the refresh did not bring it back"
    # The ended session spent nothing: its refresh token still works, once.
    unspent = await refresh(idp, refresh_token)
    assert unspent.status == 200, unspent.body


@asynccontextmanager
async def commands_seen(redis_url: str, prefix: str) -> AsyncIterator[asyncio.Event]:
    """An event set once Redis receives a command starting with `prefix` (via MONITOR)."""
    client = Redis.from_url(redis_url, decode_responses=True)
    seen = asyncio.Event()
    try:
        async with client.monitor() as monitor:

            async def watch() -> None:
                async for command in monitor.listen():
                    if command["command"].upper().startswith(prefix.upper()):
                        seen.set()
                        return

            watcher = asyncio.create_task(watch())
            try:
                yield seen
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
    finally:
        await client.aclose()
