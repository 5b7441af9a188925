"""The command-line options of scripts/bench, with the default and the --quick presets."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# Each preset must finish within its budget on the 2-core machines: about 4 minutes, and
# under a minute for --quick.
DEFAULT = {"rounds": 3, "duration": 4, "warmup": 1, "flow_duration": 4, "probe_requests": 200}
QUICK = {"rounds": 1, "duration": 1, "warmup": 1, "flow_duration": 1, "probe_requests": 50}


@dataclass(frozen=True)
class Options:
    """What to measure and for how long."""

    rounds: int
    duration: int
    warmup: int
    connections: int
    threads: int
    workers: tuple[int, ...]
    flow_clients: int
    flow_duration: int
    probe_requests: int
    out: Path
    quick: bool
    profile: bool
    cluster: bool
    stale_window: bool


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Read the options; values left unset come from the preset (default or --quick)."""
    args = _parser().parse_args(argv)
    preset = QUICK if args.quick else DEFAULT
    for name, value in preset.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    workers = tuple(int(part) for part in args.workers.split(","))
    if not workers or min(workers) < 1 or args.rounds < 1 or args.duration < 1:
        raise SystemExit("error: --workers, --rounds and --duration must be at least 1")
    return Options(
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        threads=min(args.threads, args.connections),
        workers=workers,
        flow_clients=args.flow_clients,
        flow_duration=args.flow_duration,
        probe_requests=args.probe_requests,
        out=args.out or RESULTS / _default_out(args.profile, args.cluster),
        quick=args.quick,
        profile=args.profile,
        cluster=args.cluster,
        stale_window=args.stale_window,
    )


def _default_out(profile: bool, cluster: bool) -> str:
    if profile:
        return "profile.txt"
    return "cluster.json" if cluster else "latest.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=(
            "Start Redis, the local provider, the app (Procfile) and the baselines on "
            "127.0.0.1, load them with wrk, print a table and write it as JSON."
        ),
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="1 short round: checks that it works (< 1 min)")
    add("--rounds", type=int, help="interleaved rounds (default 3)")
    add("--duration", type=int, help="seconds per wrk run (default 4)")
    add("--warmup", type=int, help="seconds of unrecorded load per target first (default 1)")
    add("--connections", type=int, default=32, help="wrk connections (default 32)")
    add("--threads", type=int, default=1, help="wrk threads (default 1: cores are few)")
    add("--workers", default="1,2", help="worker counts to run, comma-separated (default 1,2)")
    add("--flow-clients", type=int, default=32, help="concurrent users signing in (default 32)")
    add("--flow-duration", type=int, help="seconds per sign-in flow run (default 4)")
    add("--probe-requests", type=int, help="sequential requests per Redis count (default 200)")
    add(
        "--out",
        type=Path,
        help="file to write (default benchmarks/results/latest.json, cluster.json or profile.txt)",
    )
    add(
        "--profile",
        action="store_true",
        help="instead: profile signed-in GET / on 1 worker with pyinstrument",
    )
    add(
        "--cluster",
        action="store_true",
        help="instead: signed-in GET / with sessions in a Redis Cluster vs in one Redis",
    )
    add(
        "--stale-window",
        action="store_true",
        help="instead: how long after a sign-out another instance still serves the session",
    )
    return parser
