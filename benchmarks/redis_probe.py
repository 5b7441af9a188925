"""Count what a request costs in Redis, and what a session occupies there.

Round trips are Redis's read events (`total_reads_processed` in INFO): a pipeline sent in
one write is one round trip however many commands it holds. Commands come from INFO
commandstats. INFO is read before and after every request, so each request is counted
on its own; the INFO calls themselves are taken off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

Request = Callable[[], Awaitable[None]]
WRITES = frozenset(
    {"set", "setex", "psetex", "mset", "getex", "getdel", "del", "unlink", "expire", "pexpire"}
    | {"expireat", "pexpireat", "persist", "hset", "hdel", "incr", "incrby", "rename"}
)


@dataclass(frozen=True)
class Snapshot:
    """Redis's read events and calls per command at one moment."""

    reads: int
    calls: dict[str, int]


@dataclass(frozen=True)
class RedisTraffic:
    """Round trips and commands of a number of requests made one after the other."""

    requests: int
    round_trips: dict[int, int]  # round trips -> how many requests made that many
    commands: dict[str, int]  # command -> calls over all the requests
    requests_that_wrote: int

    @property
    def typical(self) -> int:
        """The most common number of round trips per request."""
        return max(self.round_trips, key=lambda trips: self.round_trips[trips])

    @property
    def per_request(self) -> float:
        """Mean round trips per request."""
        return sum(trips * n for trips, n in self.round_trips.items()) / max(self.requests, 1)


@dataclass(frozen=True)
class SessionBytes:
    """What one session occupies: serialized length and Redis memory of each key."""

    stored: dict[str, int]
    memory: dict[str, int]

    @property
    def total_memory(self) -> int:
        """Redis memory of all the session's keys."""
        return sum(self.memory.values())


async def count(redis_url: str, request: Request, times: int) -> RedisTraffic:
    """Make `request` `times` times in a row; count each one's round trips and commands."""
    trips: Counter[int] = Counter()
    commands: Counter[str] = Counter()
    wrote = 0
    async with Redis.from_url(redis_url) as redis:
        before = await _snapshot(redis)
        for _ in range(times):
            await request()
            after = await _snapshot(redis)
            reads, calls = _difference(before, after)
            trips[reads] += 1
            commands.update(calls)
            wrote += any(name in WRITES for name in calls)
            before = after
    return RedisTraffic(times, dict(sorted(trips.items())), dict(commands), wrote)


async def session_bytes(redis_url: str, keys: list[str]) -> SessionBytes:
    """STRLEN and MEMORY USAGE of each of `keys`."""
    async with Redis.from_url(redis_url) as redis:
        stored = {key: int(await redis.strlen(key)) for key in keys}
        memory = {key: int(await redis.memory_usage(key) or 0) for key in keys}
    return SessionBytes(stored, memory)


async def _snapshot(redis: Redis) -> Snapshot:
    info = await redis.info("all")
    calls = {
        name.removeprefix("cmdstat_"): int(stats["calls"])
        for name, stats in info.items()
        if name.startswith("cmdstat_")
    }
    return Snapshot(int(info["total_reads_processed"]), calls)


def _difference(before: Snapshot, after: Snapshot) -> tuple[int, dict[str, int]]:
    """Round trips and calls between two snapshots, less the INFO that took `after`."""
    calls = {
        name: total - before.calls.get(name, 0)
        for name, total in after.calls.items()
        if name != "info" and total != before.calls.get(name, 0)
    }
    return after.reads - before.reads - 1, calls
