"""Run every scenario against every server, interleaved over rounds, per worker count."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp

from benchmarks import redis_probe
from benchmarks.cpu import CpuMeter
from benchmarks.flows import FlowResult, SignIn, drive, provider_alone, through_app
from benchmarks.options import Options
from benchmarks.redis_probe import RedisTraffic, SessionBytes
from benchmarks.scenarios import FLOWS, SCENARIOS, Scenario
from benchmarks.signed_in import Sessions, check_signed_in, sign_in_both
from benchmarks.stack import CLIENT_ID, Servers, Shared, servers, shared_parts
from benchmarks.wrk import Load, WrkResult, run_wrk

FLOW_PROBES = 20  # sign-ins counted one by one for their Redis traffic
T = TypeVar("T")


@dataclass
class Results:
    """Every measurement, by scenario, then worker count, then round."""

    wrk: dict[str, dict[int, list[WrkResult]]] = field(default_factory=lambda: defaultdict(dict))
    flows: dict[str, dict[int, list[FlowResult]]] = field(default_factory=lambda: defaultdict(dict))
    redis: dict[str, RedisTraffic] = field(default_factory=dict)
    memory: dict[str, SessionBytes] = field(default_factory=dict)


def run(options: Options) -> Results:
    """Start the parts, measure at each worker count, stop everything; return the results."""
    results = Results()
    with shared_parts(options.workers) as shared:
        for workers in options.workers:
            progress(f"starting the app and the baselines with {workers} worker(s)")
            with servers(shared, workers) as running:
                Measurement(options, shared, running, results).all()
    return results


@dataclass
class Measurement:
    """The measurements at one worker count."""

    options: Options
    shared: Shared
    running: Servers
    results: Results

    def all(self) -> None:
        """Sign in, warm up, run the interleaved rounds, then count Redis traffic once."""
        redis_url = self.shared.redis.url
        app, peer = self.running.url("app"), self.running.url("peer")
        sessions = asyncio.run(sign_in_both(app, peer, redis_url))
        warmup = self._load(self.options.warmup)
        for scenario in SCENARIOS:
            self._wrk(scenario, sessions, warmup)
        for number in range(self.options.rounds):
            self._round(number, sessions)
        # The signed-in scenarios must have stayed signed in the whole time.
        for which in ("app", "peer"):
            asyncio.run(check_signed_in(self.running.url(which), sessions.cookie(which)))
        if not self.results.redis:
            self.results.redis = asyncio.run(self._redis_traffic(sessions))
            self.results.memory = asyncio.run(self._session_bytes(sessions))

    def _round(self, number: int, sessions: Sessions) -> None:
        # Odd rounds go in reverse, so no scenario always runs right after the same one.
        load = self._load(self.options.duration)
        for scenario in _ordered(SCENARIOS, number):
            result = self._wrk(scenario, sessions, load)
            self.results.wrk[scenario.key].setdefault(self.running.workers, []).append(result)
            self._say(
                number, scenario.label, f"{result.rps:8.0f} req/s  p99 {result.p99_ms:.1f} ms"
            )
        for key in _ordered(list(FLOWS), number):
            meter = CpuMeter({"server": self.running.by_name["app"].pid or 0, **self._others()})
            flow = asyncio.run(
                drive(self._sign_in(key), self.options.flow_clients, self.options.flow_duration)
            )
            flow = dataclasses.replace(flow, cores=meter.cores())
            self.results.flows[key].setdefault(self.running.workers, []).append(flow)
            self._say(number, FLOWS[key], f"{flow.users_per_second:8.1f} users/s")

    def _wrk(self, scenario: Scenario, sessions: Sessions, load: Load) -> WrkResult:
        cookie = sessions.cookie(scenario.session) if scenario.session else None
        server = self.running.by_name[scenario.server]
        return run_wrk(server, scenario.path, load, cookie, self._others())

    def _others(self) -> dict[str, int]:
        """The process groups of Redis and the provider, whose CPU use is reported."""
        return {"redis": self.shared.redis.pid or 0, "provider": self.shared.idp.pid or 0}

    def _sign_in(self, key: str) -> SignIn:
        if key == "flow_app":
            return through_app(self.running.url("app"))
        idp = self.shared.idp
        return provider_alone(
            idp.issuer, CLIENT_ID, self.shared.client_secret, self.shared.provider_redirect_uri
        )

    async def _redis_traffic(self, sessions: Sessions) -> dict[str, RedisTraffic]:
        progress("counting Redis round trips, one request at a time")
        redis_url, traffic = self.shared.redis.url, {}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            for scenario in SCENARIOS:
                if scenario.server in {"app", "peer"}:
                    request = self._request(http, scenario, sessions)
                    traffic[scenario.key] = await redis_probe.count(
                        redis_url, request, self.options.probe_requests
                    )
        sign_in = self._sign_in("flow_app")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:

            async def flow() -> None:
                browser.cookie_jar.clear()
                await sign_in(browser, "probe")

            traffic["flow_app"] = await redis_probe.count(redis_url, flow, FLOW_PROBES)
        return traffic

    async def _session_bytes(self, sessions: Sessions) -> dict[str, SessionBytes]:
        redis_url = self.shared.redis.url
        return {
            "app": await redis_probe.session_bytes(redis_url, sessions.app_keys()),
            "peer": await redis_probe.session_bytes(redis_url, sessions.peer_keys()),
        }

    def _load(self, seconds: int) -> Load:
        return Load(self.options.connections, self.options.threads, seconds)

    def _say(self, number: int, label: str, figure: str) -> None:
        rounds = self.options.rounds
        progress(f"{self.running.workers}w round {number + 1}/{rounds}  {label:<36} {figure}")

    def _request(
        self, http: aiohttp.ClientSession, scenario: Scenario, sessions: Sessions
    ) -> redis_probe.Request:
        url = self.running.url(scenario.server) + scenario.path
        cookie = sessions.cookie(scenario.session) if scenario.session else None
        return _get(http, url, cookie)


def _get(http: aiohttp.ClientSession, url: str, cookie: str | None) -> redis_probe.Request:
    headers = {"Cookie": cookie} if cookie else {}

    async def request() -> None:
        async with http.get(url, headers=headers, allow_redirects=False) as response:
            await response.read()

    return request


def _ordered(items: Iterable[T], number: int) -> list[T]:
    listed = list(items)
    return listed if number % 2 == 0 else listed[::-1]


def progress(text: str) -> None:
    """One line of progress on stderr (the table goes to stdout)."""
    print(f"bench | {text}", file=sys.stderr, flush=True)
