"""scripts/bench --cluster: signed-in GET / with sessions in a Redis Cluster vs in one Redis.

Starts one Redis (`devstack.RedisServer`), a Cluster of three primaries with a replica each
(`devstack.RedisClusterSet`, same binary), the local provider, and per worker count the app
twice through the Procfile command: once on each. Each app gets a real signed-in session
(through the provider); wrk loads GET / with its cookie, the two apps alternating over the
rounds. Then Redis round trips per request are counted one request at a time (INFO deltas;
on the Cluster, summed over the primaries). Writes benchmarks/results/cluster.json.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import statistics
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks import redis_probe, report
from benchmarks.flows import FlowError, new_client
from benchmarks.options import Options
from benchmarks.redis_probe import RedisTraffic
from benchmarks.run import progress
from benchmarks.signed_in import COOKIE, USERNAME, check_signed_in
from benchmarks.stats import ratio, spread
from benchmarks.wrk import Load, WrkResult, run_wrk
from devstack import AppServer, LocalIdp, RedisClusterSet, RedisServer, free_port
from tests.auth_actions import AuthActions

CLIENT_ID = "bench-cluster"
TOPOLOGIES = {"single": "one Redis", "cluster": "Redis Cluster, 3 primaries + 3 replicas"}
WITHIN_NOISE = 0.9  # the Cluster's median throughput over one Redis's, at least


@dataclass
class ClusterResults:
    """wrk runs by topology, then worker count; round trips by topology and worker count."""

    wrk: dict[str, dict[int, list[WrkResult]]] = field(
        default_factory=lambda: {name: {} for name in TOPOLOGIES}
    )
    redis: dict[str, dict[int, RedisTraffic]] = field(
        default_factory=lambda: {name: {} for name in TOPOLOGIES}
    )


def compare(options: Options) -> ClusterResults:
    """Measure both topologies, print the table, write the JSON."""
    results = ClusterResults()
    ports = {(name, workers): free_port() for name in TOPOLOGIES for workers in options.workers}
    secret = secrets.token_urlsafe(24)
    callbacks = [f"http://127.0.0.1:{port}/callback" for port in ports.values()]
    with ExitStack() as stack:
        progress("starting one Redis, a Redis Cluster (6 nodes) and the provider")
        single = _enter(stack, RedisServer())
        cluster = stack.enter_context(RedisClusterSet(primaries=3, replicas=1))
        idp = _enter(
            stack,
            LocalIdp(
                client_id=CLIENT_ID,
                client_secret=secret,
                redirect_uris=callbacks,
                post_logout_redirect_uris=[url.removesuffix("callback") for url in callbacks],
            ),
        )
        urls = {"single": single.url, "cluster": cluster.url}
        probes = {
            "single": [single.url],
            "cluster": [f"redis://127.0.0.1:{node.port}/0" for node in cluster.primaries()],
        }
        for workers in options.workers:
            progress(f"starting the app on each topology with {workers} worker(s)")
            with ExitStack() as apps:
                servers = {
                    name: _enter(
                        apps,
                        AppServer(
                            _settings(idp, secret, urls[name], ports[name, workers]),
                            port=ports[name, workers],
                            workers=workers,
                            timeout=60,
                        ),
                    )
                    for name in TOPOLOGIES
                }
                cookies = {name: asyncio.run(_sign_in(s.url)) for name, s in servers.items()}
                _measure(options, workers, servers, cookies, probes, results)
    print(table(options, results))
    report.write(options.out, document(options, results))
    print(f"\nWritten to {options.out}")
    return results


def _measure(
    options: Options,
    workers: int,
    servers: dict[str, AppServer],
    cookies: dict[str, str],
    probes: dict[str, list[str]],
    results: ClusterResults,
) -> None:
    warmup = Load(options.connections, options.threads, options.warmup)
    for name, server in servers.items():
        run_wrk(server, "/", warmup, cookies[name])
    load = Load(options.connections, options.threads, options.duration)
    for number in range(options.rounds):
        order = list(servers) if number % 2 == 0 else list(servers)[::-1]
        for name in order:
            result = run_wrk(servers[name], "/", load, cookies[name])
            results.wrk[name].setdefault(workers, []).append(result)
            progress(
                f"{workers}w round {number + 1}/{options.rounds}  {TOPOLOGIES[name]:<40} "
                f"{result.rps:8.0f} req/s  p99 {result.p99_ms:.1f} ms  errors {result.errors}"
            )
    for name, server in servers.items():
        asyncio.run(check_signed_in(server.url, cookies[name]))
        results.redis[name][workers] = asyncio.run(
            _round_trips(server.url, cookies[name], probes[name], options.probe_requests)
        )


def _settings(idp: LocalIdp, secret: str, redis_url: str, port: int) -> dict[str, str]:
    return {
        "APP_ENV": "production",
        "LOGTO_ENDPOINT": idp.endpoint,
        "LOGTO_APP_ID": CLIENT_ID,
        "LOGTO_APP_SECRET": secret,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
    }


async def _sign_in(url: str) -> str:
    async with new_client() as http:
        auth = AuthActions(url, http)
        landed = await auth.sign_in(USERNAME)
        if (sid := auth.session_id()) is None or 'id="sign-out"' not in landed.text:
            raise FlowError(f"could not sign in to the app at {url} (ended on {landed.url})")
    return f"{COOKIE}={sid}"


async def _round_trips(url: str, cookie: str, nodes: list[str], times: int) -> RedisTraffic:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:

        async def request() -> None:
            async with http.get(url + "/", headers={"Cookie": cookie}) as response:
                await response.read()

        return await redis_probe.count(nodes, request, times)


def _enter(stack: ExitStack, part: Any) -> Any:
    stack.callback(part.stop)
    return part.start()


def table(options: Options, results: ClusterResults) -> str:
    """The comparison as text."""
    lines = [
        "Signed-in GET /: sessions in a Redis Cluster vs in one Redis. "
        f"wrk -c{options.connections} -t{options.threads}, {options.duration} s per run, "
        f"{options.rounds} interleaved round(s); {os.cpu_count()} cores, shared with every "
        "Redis node. Medians [min-max].",
        f"  {'':3} {'topology':<40} {'req/s':>22} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}  "
        "Redis round trips: requests (wrote)",
    ]
    for workers in options.workers:
        for name, label in TOPOLOGIES.items():
            runs = results.wrk[name].get(workers, [])
            traffic = results.redis[name].get(workers)
            trips = (
                ", ".join(f"{n}: {c}" for n, c in traffic.round_trips.items())
                + f" ({traffic.requests_that_wrote})"
                if traffic
                else "-"
            )
            if not runs:
                lines.append(f"  {workers}w  {label:<40} not measured")
                continue
            rps = spread([run.rps for run in runs]).format()
            p50 = statistics.median(run.p50_ms for run in runs)
            p99 = statistics.median(run.p99_ms for run in runs)
            errors = sum(run.errors for run in runs)
            lines.append(
                f"  {workers}w  {label:<40} {rps:>22} {p50:7.2f} {p99:7.2f} {errors:6d}  {trips}"
            )
        share = _share(results, workers)
        mark = "met   " if share >= WITHIN_NOISE else "MISSED"
        lines.append(
            f"  [{mark}] {workers}w Cluster / one Redis, median req/s: {share:.2f} "
            f"(goal >= {WITHIN_NOISE:g}: within noise)"
        )
    lines += [
        "",
        "Notes",
        "  Round trips are read events on Redis (on the Cluster, summed over the primaries); "
        "a replica's once-a-second acknowledgement to its primary can add one to a request.",
        "  Every process (wrk, the app, 7 Redis processes, the provider) shares this machine's "
        "cores, and the machine may be shared with other work: compare the ranges, not digits.",
    ]
    return "\n".join(lines)


def _share(results: ClusterResults, workers: int) -> float:
    def median(name: str) -> float:
        return spread([run.rps for run in results.wrk[name].get(workers, [])]).median

    return ratio(median("cluster"), median("single"))


def document(options: Options, results: ClusterResults) -> dict[str, Any]:
    """Everything measured, as plain data for JSON."""
    return {
        "options": {k: str(v) for k, v in vars(options).items()},
        "topologies": TOPOLOGIES,
        "wrk": {
            name: {str(w): [dataclasses.asdict(r) for r in runs] for w, runs in by.items()}
            for name, by in results.wrk.items()
        },
        "redis": {
            name: {str(w): {**dataclasses.asdict(t), "typical": t.typical} for w, t in by.items()}
            for name, by in results.redis.items()
        },
        "cluster_over_single": {str(w): _share(results, w) for w in options.workers},
    }
