"""Access-token refresh is single-flight per session across processes (tokens rotate)."""

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import pytest
from redis.asyncio import Redis

from devstack import AppServer, LocalIdp, free_port
from tests.auth_actions import AuthActions
from tests.conftest import provider_for, server_settings

# Below the SDK's 60 s clock-skew margin, so every userinfo call needs a refresh.
ACCESS_TOKEN_TTL = 30


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


async def test_concurrent_refreshes_in_two_processes_spend_each_refresh_token_once(
    rotating_stack: tuple[LocalIdp, list[AppServer]],
    http: aiohttp.ClientSession,
    redis: Redis,
) -> None:
    _, servers = rotating_stack
    first, second = (AuthActions(server.url, http) for server in servers)
    await first.sign_in("rotator")
    refresh_tokens = set()

    for _ in range(3):
        pages = await asyncio.gather(*(host.get("/profile") for host in [first, second] * 4))
        assert [page.status for page in pages] == [200] * 8
        assert all('id="user-info-error"' not in page.text for page in pages)
        assert all(page.text.count("<th>username</th><td>rotator</td>") == 2 for page in pages)
        refresh_tokens.add(await stored_refresh_token(redis, first.session_id() or ""))

    assert len(refresh_tokens) == 3, "each round rotated the refresh token"
    after = await second.get("/profile")
    assert after.status == 200 and "Profile of Rotator" in after.text, "the grant is still alive"


async def stored_refresh_token(redis: Redis, session_id: str) -> str:
    stored = json.loads(await redis.get(f"session:{session_id}") or "{}")
    return str(stored["logto.refreshToken"])
