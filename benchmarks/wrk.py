"""Run wrk (installing Debian's package if missing) and read its summary and worker split."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarks import workers as split
from benchmarks.cpu import CpuMeter
from devstack import AppServer

REPORT_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
MARKER = "BENCH_JSON "
INSTALL_TIMEOUT = 300


class WrkError(RuntimeError):
    """wrk could not be installed or did not report."""


@dataclass(frozen=True)
class Load:
    """How hard to push: wrk's connections, threads and seconds."""

    connections: int
    threads: int
    seconds: int


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput, latency, errors, and how the workers shared it."""

    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    bytes_per_response: float
    errors: int
    connections_per_worker: list[int]
    cpu_per_worker: list[float]
    cores: dict[str, float]  # part -> cores it used during the run


def ensure_wrk() -> str:
    """The path of wrk, installed with apt-get (after an update if needed) when missing."""
    if found := shutil.which("wrk"):
        return found
    print("Installing wrk (apt-get install -y wrk)...", flush=True)
    if not _apt("install", "-y", "wrk"):
        _apt("update")
        _apt("install", "-y", "wrk")
    if found := shutil.which("wrk"):
        return found
    raise WrkError("wrk is missing and `apt-get install -y wrk` did not install it")


def _apt(*args: str) -> bool:
    try:
        done = subprocess.run(  # noqa: S603
            ["apt-get", "-q", *args],  # noqa: S607
            capture_output=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def run_wrk(
    server: AppServer,
    path: str,
    load: Load,
    cookie: str | None = None,
    others: Mapping[str, int] | None = None,
) -> WrkResult:
    """Load `path` of `server` with wrk; sample its workers' connections half-way through.

    `others` names the process groups (Redis, the provider) whose CPU use is reported too.
    """
    pids = split.workers_of(server.pid or 0, server.port)
    cpu_before = split.cpu_seconds(pids)
    meter = CpuMeter({"server": server.pid or 0, **(others or {})}, children="wrk")
    command = [
        *("wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{load.seconds}s"),
        *("--latency", "-s", str(REPORT_SCRIPT), server.url + path),
        *(["-H", f"Cookie: {cookie}"] if cookie else []),
    ]
    process = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(load.seconds / 2)
    held = split.connections(pids, server.port)
    try:
        out, err = process.communicate(timeout=load.seconds + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise WrkError(f"wrk on {path} did not finish") from None
    cores = meter.cores()
    used = [
        after - before for before, after in zip(cpu_before, split.cpu_seconds(pids), strict=True)
    ]
    return _result(_summary(out, err), held, used, cores)


def _summary(out: str, err: str) -> dict[str, float]:
    for line in out.splitlines():
        if line.startswith(MARKER):
            summary: dict[str, float] = json.loads(line.removeprefix(MARKER))
            return summary
    raise WrkError(f"wrk printed no summary: {(out + err).strip()[-500:]}")


def _result(
    summary: dict[str, float], held: list[int], used: list[float], cores: dict[str, float]
) -> WrkResult:
    requests = int(summary["requests"])
    errors = sum(int(summary[kind]) for kind in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(
        requests=requests,
        rps=requests / (summary["duration_us"] / 1e6),
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        bytes_per_response=summary["bytes"] / max(requests, 1),
        errors=errors,
        connections_per_worker=held,
        cpu_per_worker=[round(seconds, 2) for seconds in used],
        cores=cores,
    )
