"""The ratios issue 5 sets as targets, each marked met or missed."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks.run import Results
from benchmarks.scenarios import SCENARIOS
from benchmarks.stats import ratio, spread
from benchmarks.wrk import WrkResult

SESSION_BYTES_LIMIT = 4096
ROUND_TRIP_LIMITS = {"anonymous_home": 1, "home": 1, "profile": 1, "sign_in": 2}
RARE_WRITES = 0.01  # share of reading requests that may write (the last-seen mark)
LABELS = {scenario.key: scenario.label for scenario in SCENARIOS}
EVEN_SHARE = 0.8  # the least loaded worker holds at least 80 % of a fair share


@dataclass(frozen=True)
class Target:
    """One target: what it asks, the measured value, and whether it is met."""

    name: str
    goal: str
    value: float
    met: bool
    detail: str = ""


def targets(results: Results) -> list[Target]:
    """Every target that the measured worker counts allow, in the issue's order."""
    found: list[Target] = []
    for workers in sorted(results.wrk.get("home", {})):
        found += _throughput_targets(results, workers)
    found += _redis_targets(results)
    found += _scaling_targets(results)
    return found


def _throughput_targets(results: Results, workers: int) -> list[Target]:
    def rps(key: str) -> float:
        return median(results, key, workers, lambda run: run.rps)

    def p99(key: str) -> float:
        return median(results, key, workers, lambda run: run.p99_ms)

    flows = {
        key: spread([f.users_per_second for f in runs.get(workers, [])]).median
        for key, runs in results.flows.items()
    }
    w = f"{workers}w"
    return [
        at_least(
            f"signed-in GET / vs bare Quart ({w})", ratio(rps("home"), rps("bare_quart")), 0.8
        ),
        at_least(f"signed-in GET / vs Flask peer ({w})", ratio(rps("home"), rps("peer")), 1.5),
        at_least(
            f"sign-in flow vs provider alone ({w})",
            ratio(flows.get("flow_app", 0.0), flows.get("flow_provider", 0.0)),
            0.8,
        ),
        at_most(
            f"p99 signed-in GET / vs bare Quart ({w})", ratio(p99("home"), p99("bare_quart")), 2
        ),
    ]


def _redis_targets(results: Results) -> list[Target]:
    found = [_round_trips(results, key, limit) for key, limit in ROUND_TRIP_LIMITS.items()]
    memory = results.memory.get("app")
    if memory is not None:
        total = memory.total_memory
        sizes = " + ".join(map(str, memory.memory.values()))
        detail = f"{sizes} B: the data key and the last-seen key"
        name, goal = "Redis bytes per signed-in session", f"<= {SESSION_BYTES_LIMIT}"
        found.append(Target(name, goal, total, total <= SESSION_BYTES_LIMIT, detail))
    return [target for target in found if target is not None]


def _round_trips(results: Results, key: str, limit: int) -> Target | None:
    """Typical round trips per request of scenario `key`; reads only when `limit` is 1."""
    if (traffic := results.redis.get(key)) is None:
        return None
    wrote = traffic.requests_that_wrote
    reads_only = limit == 1
    # The app marks a session as seen at most once a minute: a rare write, allowed for.
    rare = wrote <= traffic.requests * RARE_WRITES
    met = traffic.typical <= limit and (rare or not reads_only)
    goal = "<= 1 round trip, no write" if reads_only else "<= 2 round trips"
    label = f"Redis round trips, {LABELS[key]}"
    return Target(label, goal, traffic.typical, met, f"{wrote}/{traffic.requests} wrote")


def _scaling_targets(results: Results) -> list[Target]:
    home = results.wrk.get("home", {})
    if 1 not in home or 2 not in home:
        return []
    scaling = ratio(
        median(results, "home", 2, lambda r: r.rps), median(results, "home", 1, lambda r: r.rps)
    )
    shares = [least_share(run) for run in home[2]]
    splits = " ".join("/".join(map(str, run.connections_per_worker)) for run in home[2])
    return [
        at_least("2 workers vs 1, signed-in GET /", scaling, 1.8),
        Target(
            "even split over 2 workers (least loaded / fair share)",
            f">= {EVEN_SHARE}",
            statistics.median(shares),
            statistics.median(shares) >= EVEN_SHARE,
            f"connections per worker in each round: {splits}",
        ),
    ]


def median(
    results: Results, key: str, workers: int, measure: Callable[[WrkResult], float]
) -> float:
    """The median of `measure` over the rounds of scenario `key` at `workers` workers."""
    return spread([measure(run) for run in results.wrk.get(key, {}).get(workers, [])]).median


def least_share(run: WrkResult) -> float:
    """Connections of the least loaded worker over a fair share (1.0 = perfectly even)."""
    held = run.connections_per_worker
    if not held or not sum(held):
        return float("nan")
    return min(held) / (sum(held) / len(held))


def at_least(name: str, value: float, goal: float) -> Target:
    """A target met when `value` >= `goal`."""
    return Target(name, f">= {goal:g}", value, value >= goal)


def at_most(name: str, value: float, goal: float) -> Target:
    """A target met when `value` <= `goal`."""
    return Target(name, f"<= {goal:g}", value, value <= goal)
