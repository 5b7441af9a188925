"""The printed table and the JSON document of one benchmark run."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks.flows import FlowResult
from benchmarks.options import Options
from benchmarks.run import Results
from benchmarks.scenarios import FLOWS, SCENARIOS
from benchmarks.stats import ratio, spread
from benchmarks.targets import Target
from benchmarks.wrk import WrkResult

PACKAGES = ("hypercorn", "quart", "quart-session", "redis", "flask", "flask-session", "gunicorn")
LABEL = 34


def table(options: Options, results: Results, found: list[Target]) -> str:
    """The whole report as text."""
    lines = [_heading(options)]
    for workers in options.workers:
        lines += ["", f"{workers} worker(s)", _wrk_header()]
        lines += [_wrk_row(s.label, results.wrk[s.key].get(workers, [])) for s in SCENARIOS]
        lines += [_flow_row(label, results.flows[k].get(workers, [])) for k, label in FLOWS.items()]
    lines += ["", *_scaling_lines(options, results), "", *_cores_lines(options, results)]
    lines += ["", *_redis_lines(options, results), "", *_memory_lines(results)]
    lines += ["", "Targets (issue 5), from medians", *map(_target_line, found)]
    lines += ["", "Notes", *_notes()]
    return "\n".join(lines)


def _heading(options: Options) -> str:
    return (
        f"Benchmark: wrk -c{options.connections} -t{options.threads}, "
        f"{options.duration} s per run, "
        f"{options.rounds} interleaved round(s); sign-in flow: {options.flow_clients} users, "
        f"{options.flow_duration} s per run; {os.cpu_count()} cores. Medians [min-max]."
    )


def _wrk_header() -> str:
    return (
        f"  {'scenario':<{LABEL}} {'req/s':>22} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'B/resp':>6} {'errors':>6}  per worker: connections, CPU share (each round)"
    )


def _wrk_row(label: str, runs: list[WrkResult]) -> str:
    if not runs:
        return f"  {label:<{LABEL}} not measured"
    p50 = statistics.median(run.p50_ms for run in runs)
    p99 = statistics.median(run.p99_ms for run in runs)
    size = statistics.median(run.bytes_per_response for run in runs)
    errors = sum(run.errors for run in runs)
    splits = "; ".join(map(_split, runs))
    rps = spread([run.rps for run in runs]).format()
    return f"  {label:<{LABEL}} {rps:>22} {p50:7.2f} {p99:7.2f} {size:6.0f} {errors:6d}  {splits}"


def _split(run: WrkResult) -> str:
    """`connections/... cpu shares/...%` of one run: how its workers shared it."""
    held = "/".join(map(str, run.connections_per_worker))
    total = sum(run.cpu_per_worker) or 1.0
    shares = "/".join(f"{100 * seconds / total:.0f}" for seconds in run.cpu_per_worker)
    return f"{held} cpu {shares}%"


def _flow_row(label: str, runs: list[FlowResult]) -> str:
    if not runs:
        return f"  {label:<{LABEL}} not measured"
    users = spread([run.users_per_second for run in runs]).format(1)
    p50 = statistics.median(run.p50_ms for run in runs)
    p99 = statistics.median(run.p99_ms for run in runs)
    failed = sum(run.failed for run in runs)
    row = f"  {label:<{LABEL}} {users + ' users/s':>22} {p50:7.1f} {p99:7.1f} {'':>6} {failed:6d}"
    errors = [run.first_error for run in runs if run.first_error]
    return row + (f"  first error: {errors[0]}" if errors else "")


def _scaling_lines(options: Options, results: Results) -> list[str]:
    if not {1, 2} <= set(options.workers):
        return []
    lines = ["Scaling: median throughput with 2 workers / with 1 (the limit: what this box allows)"]
    for scenario in SCENARIOS:
        runs = results.wrk[scenario.key]
        rps = [spread([run.rps for run in runs.get(n, [])]).median for n in (2, 1)]
        lines.append(f"  {scenario.label:<{LABEL}} {ratio(*rps):5.2f}")
    for key, label in FLOWS.items():
        flows = results.flows[key]
        users = [spread([run.users_per_second for run in flows.get(n, [])]).median for n in (2, 1)]
        lines.append(f"  {label:<{LABEL}} {ratio(*users):5.2f}")
    return lines


def _cores_lines(options: Options, results: Results) -> list[str]:
    lines = [
        f"Cores used during each run, median of rounds ({os.cpu_count()} cores in all; bench = "
        "this process: it drains the servers' logs and is the sign-in flows' client)"
    ]
    for workers in options.workers:
        for scenario in SCENARIOS:
            runs = results.wrk[scenario.key].get(workers, [])
            lines.append(_cores_line(workers, scenario.label, [run.cores for run in runs]))
        for key, label in FLOWS.items():
            flows = results.flows[key].get(workers, [])
            lines.append(_cores_line(workers, label, [run.cores for run in flows]))
    return lines


def _cores_line(workers: int, label: str, cores: list[dict[str, float]]) -> str:
    parts = cores[0] if cores else {}
    used = {name: statistics.median(run[name] for run in cores) for name in parts}
    shown = "  ".join(f"{name} {value:.2f}" for name, value in used.items())
    return f"  {workers}w {label:<{LABEL}} {shown}"


def _redis_lines(options: Options, results: Results) -> list[str]:
    lines = [
        f"Redis per request ({options.probe_requests} requests one after the other; "
        "round trips = Redis read events)",
        f"  {'scenario':<{LABEL}} {'round trips: requests':<24} {'wrote':>5}  commands per request",
    ]
    labels = {s.key: s.label for s in SCENARIOS} | {"flow_app": "one complete sign-in (app)"}
    for key, traffic in results.redis.items():
        trips = ", ".join(f"{n}: {count}" for n, count in traffic.round_trips.items())
        calls = ", ".join(
            f"{name} {count / traffic.requests:.2f}"
            for name, count in sorted(traffic.commands.items())
        )
        lines.append(
            f"  {labels[key]:<{LABEL}} {trips:<24} {traffic.requests_that_wrote:>5}  {calls or '-'}"
        )
    return lines


def _memory_lines(results: Results) -> list[str]:
    lines = ["Redis bytes per signed-in session (STRLEN stored / MEMORY USAGE)"]
    for owner, memory in results.memory.items():
        keys = ", ".join(
            f"{_short(key)} {memory.stored[key]}/{memory.memory[key]}" for key in memory.memory
        )
        lines.append(f"  {owner:<5} {memory.total_memory:>6} B  ({keys})")
    return lines


def _short(key: str) -> str:
    prefix, _, rest = key.partition(":")
    sid, _, suffix = rest.partition(":")
    return f"{prefix}:{sid[:6]}..." + (f":{suffix}" if suffix else "")


def _target_line(target: Target) -> str:
    mark = "met   " if target.met else "MISSED"
    detail = f"  ({target.detail})" if target.detail else ""
    return f"  [{mark}] {target.name:<52} {target.value:8.2f}  goal {target.goal}{detail}"


def _notes() -> list[str]:
    notes = [f"  {s.label}: {s.note}" for s in SCENARIOS if s.note]
    return [
        *notes,
        "  Flask peer: gunicorn sync workers (no keep-alive) and Flask-Session defaults "
        "(the session is written back on every request).",
        "  Per worker: established connections on the port owned by each worker PID half-way "
        "through the run, and each worker's share of the CPU time the workers used (/proc).",
        "  With 2 workers a run's throughput depends on how the kernel handed wrk's keep-alive "
        "connections to the workers (one with 0 idles): read the split before comparing.",
    ]


def document(options: Options, results: Results, found: list[Target]) -> dict[str, Any]:
    """Everything measured, as plain data for JSON."""
    return {
        "meta": _meta(options),
        "wrk": {key: _by_workers(runs) for key, runs in results.wrk.items()},
        "flows": {key: _by_workers(runs) for key, runs in results.flows.items()},
        "redis": {
            key: {**dataclasses.asdict(t), "typical": t.typical, "per_request": t.per_request}
            for key, t in results.redis.items()
        },
        "memory": {
            key: {**dataclasses.asdict(m), "total_memory": m.total_memory}
            for key, m in results.memory.items()
        },
        "targets": [dataclasses.asdict(target) for target in found],
    }


def _by_workers(runs: dict[int, list[Any]]) -> dict[str, Any]:
    return {
        str(workers): [dataclasses.asdict(run) for run in rounds]
        for workers, rounds in runs.items()
    }


def _meta(options: Options) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()},
        "scenarios": {s.key: dataclasses.asdict(s) for s in SCENARIOS},
    }


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def write(path: Path, data: dict[str, Any]) -> None:
    """Write `data` as indented JSON to `path`, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, allow_nan=True) + "\n")
