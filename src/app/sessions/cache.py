"""A per-worker cache of session reads, kept true by Redis server-assisted invalidation.

A signed-in page reads its session from here instead of Redis while three things hold:

- the invalidation channel is live: a connection of this worker to Redis with
  `CLIENT TRACKING ON BCAST PREFIX session:` redirected to itself and subscribed to
  `__redis__:invalidate`, so Redis tells it of every change to any session key (a write, a
  delete, an expiry, an eviction), by any client; "live" means Redis answered on it within
  REDIS_TIMEOUT (it is pinged every REDIS_TIMEOUT / 3 when quiet);
- nothing about that session was invalidated since it was read (a read that raced with an
  invalidation is not kept: every invalidation moves `epoch`);
- the entry is among the `size` most recently used (LRU).

Failure modes, each flushing the cache and sending every read to Redis until the channel is
live again: the connection drops or Redis restarts (nothing is known of what changed
meanwhile: flushed on reconnect too); Redis freezes (no answer to the ping: after
REDIS_TIMEOUT the cache is not used, and the reads themselves then time out into the 503
page); FLUSHALL or FLUSHDB (Redis sends an invalidation of everything); a Sentinel failover
(the connection to the old primary drops; the listener reconnects to the new one). This
worker's own writes drop their entries at once, without waiting for Redis's message.
Redis Cluster: not cached (each node would need its own channel).
"""

from __future__ import annotations

from collections import OrderedDict
from time import monotonic

from app.observability import metrics

Entry = tuple[str, str | None]  # the stored data (JSON) and the last-seen time, as read


class SessionCache:
    """Session reads by session id, usable only while its invalidation channel is live."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.epoch = 0  # moves at every invalidation, flush and reconnect
        self.live_until = 0.0  # monotonic time until which the channel is known to be live
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def usable(self) -> bool:
        """True while the invalidation channel is known to be live."""
        return monotonic() < self.live_until

    def get(self, sid: str) -> Entry | None:
        """The cached read of session `sid`, if it may be used."""
        if not self.usable:
            if self._entries:
                self.flush()
            metrics.session_cache_bypasses.inc()
            return None
        entry = self._entries.get(sid)
        if entry is None:
            metrics.session_cache_misses.inc()
            return None
        self._entries.move_to_end(sid)
        metrics.session_cache_hits.inc()
        return entry

    def put(self, sid: str, entry: Entry, epoch: int) -> None:
        """Keep a read made when the epoch was `epoch`, unless anything moved it since."""
        if epoch != self.epoch or not self.usable:
            return
        self._entries[sid] = entry
        self._entries.move_to_end(sid)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
            metrics.session_cache_evictions.inc()

    def forget(self, sids: list[str]) -> None:
        """Drop the entries of `sids` (their keys changed)."""
        self.epoch += 1
        for sid in sids:
            self._entries.pop(sid, None)

    def flush(self) -> None:
        """Drop every entry."""
        self.epoch += 1
        self._entries.clear()

    def alive_for(self, seconds: float) -> None:
        """The channel answered: entries may be used for `seconds` more."""
        self.live_until = monotonic() + seconds

    def dead(self) -> None:
        """The channel is down: use nothing until it is live again."""
        self.live_until = 0.0
        self.flush()
