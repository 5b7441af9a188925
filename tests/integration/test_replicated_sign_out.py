"""On Sentinel and Cluster, ending a session waits (bounded) until a replica has the deletion.

Replication is asynchronous: a DEL that a primary acknowledged and then lost in a failover
would bring a signed-out session back on the promoted replica. The app sends WAIT 1 <ms>
behind its deletions, on the same connection (WAIT covers that connection's writes only).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis

from devstack import LocalIdp, RedisServer
from devstack.redis_cluster import RedisClusterSet
from devstack.redis_sentinel import RedisSentinelSet
from tests.auth_actions import forms_of
from tests.home_page import is_signed_out
from tests.in_process_sign_in import browser_signed_in
from tests.local_app import local_app
from tests.storage_routes import session_cookie

REDIS_TIMEOUT = 2.0  # the app's; WAIT is bounded by half of it


@pytest.fixture(scope="module")
def sentinel() -> Iterator[RedisSentinelSet]:
    with RedisSentinelSet(replicas=1, sentinels=3) as sentinels:
        yield sentinels


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterSet]:
    with RedisClusterSet(primaries=3, replicas=1) as nodes:
        yield nodes


def app_on(redis_url: str, idp: LocalIdp, port: int) -> AbstractAsyncContextManager[Quart]:
    """The app in-process on `redis_url` and the real provider."""
    return local_app(redis_url, idp, port, REDIS_TIMEOUT=REDIS_TIMEOUT)


async def sign_out(client: QuartClient) -> int:
    """Post the home page's sign-out form; the status of the answer."""
    page = await (await client.get("/")).get_data(as_text=True)
    form = next(f for f in forms_of(page) if f.action.endswith("/sign-out"))
    return (await client.post("/sign-out", form=form.fields)).status_code


@asynccontextmanager
async def monitoring(node: RedisServer | str) -> AsyncIterator[list[tuple[str, str]]]:
    """Every (client address, command line) the node (or Redis URL) runs during the block."""
    seen: list[tuple[str, str]] = []
    redis = (
        Redis.from_url(node, decode_responses=True)
        if isinstance(node, str)
        else Redis(host="127.0.0.1", port=node.port, decode_responses=True)
    )

    async def watch() -> None:
        async with redis.monitor() as monitor:
            async for entry in monitor.listen():
                seen.append((str(entry["client_address"]), str(entry["command"])))

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.2)
    try:
        yield seen
        await asyncio.sleep(0.2)
    finally:
        watcher.cancel()
        await redis.aclose()


def wait_follows_the_delete(seen: list[tuple[str, str]], sid: str) -> bool:
    """True when a WAIT 1 comes from the connection that deleted session `sid`, after it."""
    deletes = [
        i for i, (_, command) in enumerate(seen) if command.startswith(f"DEL session:{{{sid}}}")
    ]
    if not deletes:
        return False
    client = seen[deletes[0]][0]
    return any(
        address == client and command.startswith("WAIT 1 ")
        for address, command in seen[deletes[0] :]
    )


async def test_sentinel_sign_out_waits_for_the_replica(
    sentinel: RedisSentinelSet, idp: LocalIdp, app_ports: list[int]
) -> None:
    async with app_on(sentinel.url, idp, app_ports[0]) as app:
        browser = await browser_signed_in(app, "replicated")
        sid = session_cookie(browser)
        async with monitoring(sentinel.current_primary()) as seen:
            assert await sign_out(browser) == 302
        assert wait_follows_the_delete(seen, sid), seen
        assert await is_signed_out(browser)


async def test_sentinel_sign_out_completes_when_no_replica_answers(
    sentinel: RedisSentinelSet,
    idp: LocalIdp,
    app_ports: list[int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with app_on(sentinel.url, idp, app_ports[0]) as app:
        browser = await browser_signed_in(app, "unreplicated")
        replica = sentinel.replicas[0]
        assert replica.pid is not None
        os.kill(replica.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            assert await sign_out(browser) == 302
            took = time.monotonic() - started
        finally:
            os.kill(replica.pid, signal.SIGCONT)
        assert await is_signed_out(browser)
        assert took < REDIS_TIMEOUT, f"the wait is bounded ({took:.2f} s)"
        assert any("No replica acknowledged" in r.getMessage() for r in caplog.records)


async def test_cluster_sign_out_waits_on_the_node_that_held_the_session(
    cluster: RedisClusterSet, idp: LocalIdp, app_ports: list[int]
) -> None:
    async with app_on(cluster.url, idp, app_ports[0]) as app:
        browser = await browser_signed_in(app, "clustered")
        sid = session_cookie(browser)
        primary = cluster.primary_for(f"session:{{{sid}}}")
        async with monitoring(primary) as seen:
            assert await sign_out(browser) == 302
        assert wait_follows_the_delete(seen, sid), seen
        assert await is_signed_out(browser)


async def test_a_single_redis_sends_no_wait(
    redis_url: str, idp: LocalIdp, app_ports: list[int]
) -> None:
    async with app_on(redis_url, idp, app_ports[0]) as app:
        store = app.extensions["logto"].store
        assert store.replicated is False
