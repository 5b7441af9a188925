"""Where the cores went during a run: the server, wrk, Redis, the provider, this process."""

from __future__ import annotations

import resource
import time
from collections.abc import Mapping

from benchmarks.workers import group_cpu


class CpuMeter:
    """CPU seconds used per second of wall time by each part, from start to `cores()`."""

    def __init__(self, groups: Mapping[str, int], children: str | None = None) -> None:
        self.groups = dict(groups)  # part name -> process group id
        self.children = children  # the name of what this process runs as a child (wrk)
        self._started = time.monotonic()
        self._before = self._read()

    def cores(self) -> dict[str, float]:
        """Cores used by each part since the meter started (call once the load has ended)."""
        after, elapsed = self._read(), time.monotonic() - self._started
        return {name: round((after[name] - self._before[name]) / elapsed, 2) for name in after}

    def _read(self) -> dict[str, float]:
        used = {name: group_cpu(group) for name, group in self.groups.items()}
        if self.children is not None:
            # Counted once reaped: wrk is the only child this process waits for meanwhile.
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            used[self.children] = children.ru_utime + children.ru_stime
        return {**used, "bench": time.process_time()}
