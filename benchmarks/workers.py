"""How a server's load spreads over its workers, seen from outside through /proc.

The workers are the processes of the server's process group that hold a listening
socket on its port and have no child that does (the master holds it too, or not).
A worker owns the established connections whose socket inodes are among its fds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
LISTEN, ESTABLISHED = "0A", "01"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    """One process: its parent and the CPU seconds it has used."""

    pid: int
    ppid: int
    cpu: float


def workers_of(group: int, port: int) -> list[int]:
    """PIDs of the worker processes of process group `group` listening on `port`."""
    listening = _sockets(port, LISTEN)
    members = [proc for proc in _group(group) if _inodes(proc.pid) & listening]
    parents = {proc.ppid for proc in members}
    return sorted(proc.pid for proc in members if proc.pid not in parents)


def connections(workers: list[int], port: int) -> list[int]:
    """Established connections on `port` held by each worker, in `workers` order."""
    established = _sockets(port, ESTABLISHED)
    return [len(_inodes(pid) & established) for pid in workers]


def cpu_seconds(workers: list[int]) -> list[float]:
    """CPU seconds (user + system) used so far by each worker; 0 for one that is gone."""
    return [proc.cpu if (proc := _process(pid)) else 0.0 for pid in workers]


def group_cpu(group: int) -> float:
    """CPU seconds used so far by the live processes of process group `group`."""
    return sum(proc.cpu for proc in _group(group))


def _group(group: int) -> list[Process]:
    found = (_process(int(entry.name)) for entry in PROC.iterdir() if entry.name.isdigit())
    return [proc for proc in found if proc is not None and _pgid(proc.pid) == group]


def _process(pid: int) -> Process | None:
    fields = _stat(pid)
    if fields is None:
        return None
    return Process(pid, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS)


def _pgid(pid: int) -> int | None:
    fields = _stat(pid)
    return None if fields is None else int(fields[2])


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first), or None if gone."""
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _inodes(pid: int) -> set[str]:
    """Socket inodes among the open fds of `pid`."""
    found: set[str] = set()
    try:
        entries = list((PROC / str(pid) / "fd").iterdir())
    except OSError:
        return found
    for entry in entries:
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def _sockets(port: int, state: str) -> set[str]:
    """Inodes of the IPv4 TCP sockets whose local port is `port`, in `state`."""
    found: set[str] = set()
    for line in (PROC / "net" / "tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == state:
            found.add(fields[9])
    return found
