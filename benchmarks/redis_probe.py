"""Count what a request costs in Redis, and what a session occupies there.

Round trips are Redis's read events (`total_reads_processed` in INFO): a pipeline sent in
one write is one round trip however many commands it holds. Commands come from INFO
commandstats. INFO is read before and after every request, so each request is counted
on its own; the INFO calls themselves are taken off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from redis.asyncio import Redis

Request = Callable[[], Awaitable[None]]
# The probe's own INFO, and the acknowledgements a Cluster's replicas send their primary
# every second (a replica's REPLCONF ACK is also a read event: rare, so the typical count
# of round trips per request is unaffected).
NOT_COUNTED = frozenset({"info", "replconf"})
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


async def count(redis_url: str | Sequence[str], request: Request, times: int) -> RedisTraffic:
    """Make `request` `times` times in a row; count each one's round trips and commands.

    Several URLs (a Cluster's primaries, each on its own) are counted together.
    """
    urls = [redis_url] if isinstance(redis_url, str) else list(redis_url)
    trips: Counter[int] = Counter()
    commands: Counter[str] = Counter()
    wrote = 0
    async with AsyncExitStack() as stack:
        nodes = [await stack.enter_async_context(Redis.from_url(url)) for url in urls]
        before = await _snapshots(nodes)
        for _ in range(times):
            await request()
            after = await _snapshots(nodes)
            reads, calls = _difference(before, after)
            trips[reads - (len(nodes) - 1)] += 1  # an INFO on each node, not just one
            commands.update(calls)
            wrote += any(name in WRITES for name in calls)
            before = after
    return RedisTraffic(times, dict(sorted(trips.items())), dict(commands), wrote)


async def _snapshots(nodes: list[Redis]) -> Snapshot:
    """The sum of every node's snapshot."""
    reads, calls = 0, Counter[str]()
    for node in nodes:
        snapshot = await _snapshot(node)
        reads += snapshot.reads
        calls.update(snapshot.calls)
    return Snapshot(reads, dict(calls))


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
        if name not in NOT_COUNTED and total != before.calls.get(name, 0)
    }
    return after.reads - before.reads - 1, calls
