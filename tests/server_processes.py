"""The processes of an app server, seen from outside through /proc: main, workers, environment."""

from __future__ import annotations

import contextlib
from pathlib import Path

PROC = Path("/proc")


def group_processes(pgid: int) -> list[int]:
    """The live (not zombie) processes whose process group is `pgid`."""
    pids = []
    for stat in PROC.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
                pids.append(int(stat.parent.name))
    return sorted(pids)


def command_line(pid: int) -> list[str]:
    """The arguments process `pid` was started with ([] once it is gone)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def serve_process(pgid: int) -> int:
    """The `python -m app.serve` main process of the server whose group is `pgid`."""
    for pid in group_processes(pgid):
        if "app.serve" in command_line(pid):
            return pid
    raise LookupError(f"no app.serve process in group {pgid}")


def worker_processes(pgid: int) -> list[int]:
    """The hypercorn workers (multiprocessing spawn children) of the server in group `pgid`."""
    return [pid for pid in group_processes(pgid) if "--multiprocessing-fork" in command_line(pid)]


def environment(pid: int) -> dict[str, str]:
    """The environment process `pid` was started with."""
    raw = (PROC / str(pid) / "environ").read_bytes()
    pairs = (entry.decode(errors="replace").partition("=") for entry in raw.split(b"\0"))
    return {name: value for name, _, value in pairs if name}
