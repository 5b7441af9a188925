"""The one Redis client factory: REDIS_URL alone chooses standalone, Sentinel or Cluster.

Every client is one of redis-py's own (Redis, Sentinel's master_for, RedisCluster), answers
in str (decode_responses), waits at most REDIS_TIMEOUT per socket operation and retries
nothing: a failing call fails at once and the page says so (503). What a client needs to
follow a failover still happens on the next call: a Sentinel-managed connection asks the
sentinels for the current primary whenever it (re)connects, and a Cluster client reloads
its slot map after a connection error, a CLUSTERDOWN or an unknown slot, and follows MOVED.
The URL forms are read in app.redis_urls.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, TypeAlias

from redis import __version__ as redis_py_version
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import (
    ClusterDownError,
    ConnectionError,
    RedisClusterException,
    SlotNotCoveredError,
    TimeoutError,
)

from app.config import Settings
from app.redis_urls import parse_redis_url

RedisClient: TypeAlias = Redis | RedisCluster
# Set while a Cluster command or pipeline runs in this task (see SessionCluster.aclose).
_IN_COMMAND: ContextVar[bool] = ContextVar("in_cluster_command", default=False)
REDIS_PY_MAJOR = int(redis_py_version.split(".")[0])


class ClusterUnreachable(ConnectionError):
    """No node of the Cluster answered, or a slot has no node: a connection error."""


def create_redis(settings: Settings) -> RedisClient:
    """The client that REDIS_URL names: every call fails within REDIS_TIMEOUT, never retried."""
    target = parse_redis_url(settings.redis_url)
    timeouts: dict[str, Any] = {
        "socket_timeout": settings.REDIS_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_TIMEOUT,
    }
    if target.topology == "cluster":
        return SessionCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
            decode_responses=True,
            **_no_cluster_retry(),
            **timeouts,
            **target.options,
        )
    if target.topology == "sentinel":
        assert target.primary is not None
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.nodes),
            # The sentinels' own clients: same timeouts, no retries, their own credentials.
            sentinel_kwargs={"retry": _no_retry(), **timeouts, **target.sentinel_options},
            decode_responses=True,
            retry=_no_retry(),
            **timeouts,
            **target.options,
        )
        client: Redis = sentinel.master_for(target.primary, redis_class=SentinelPrimary)
        return client
    return Redis.from_url(target.url, decode_responses=True, retry=_no_retry(), **timeouts)


def _no_retry() -> Retry:
    return Retry(NoBackoff(), 0)


def _no_cluster_retry() -> dict[str, Any]:
    """No retry after a Cluster error: redis-py 6+ counts them in `retry`, 5.x in its own
    cluster_error_retry_attempts (3 by default; 6+ warns that it is deprecated)."""
    if REDIS_PY_MAJOR >= 6:
        return {"retry": _no_retry()}
    return {"retry": _no_retry(), "cluster_error_retry_attempts": 0}


class SentinelPrimary(Redis):
    """The current primary through Sentinel; closing it closes the sentinels' clients too."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        """Close the connections to the primary and to the sentinels."""
        await super().aclose(close_connection_pool)
        pool = self.connection_pool
        assert isinstance(pool, SentinelConnectionPool)
        for sentinel in pool.sentinel_manager.sentinels:
            await sentinel.aclose()


class SessionCluster(RedisCluster):
    """redis-py's RedisCluster, made safe for many concurrent requests and for failovers.

    - Failures to reach the Cluster are RedisErrors: "no node answered" and "no node for
      this slot" become connection errors, so a Cluster that is away is a 503 like any
      Redis outage.
    - A pipeline that fails on a connection error or CLUSTERDOWN reloads the slot map on
      the next call, as redis-py does itself for single commands (without retries it would
      not for pipelines, and keep sending them to a primary that is gone).
    - The slot map is loaded before a command is routed: before that, redis-py sends a
      command to a random primary, and the MOVED answers of a burst of first requests made
      it close every connection, those of other requests included.
    - Where redis-py closes every connection to reload the slot map (after CLUSTERDOWN, or
      every few MOVED), the map is reloaded without closing the connections that other
      requests are using at that moment (that broke them with errors that are not
      RedisErrors).
    """

    async def initialize(self, *args: Any, **kwargs: Any) -> SessionCluster:
        """Load the slot map (once, or again after a failure); ClusterUnreachable when no
        startup node answers."""
        try:
            await super().initialize(*args, **kwargs)
        except RedisClusterException as error:
            raise ClusterUnreachable(str(error)) from error
        return self

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """Run one command (see RedisCluster.execute_command)."""
        await self.initialize()
        inside = _IN_COMMAND.set(True)
        try:
            return await super().execute_command(*args, **kwargs)
        except SlotNotCoveredError as error:
            self.reload_slots_on_next_call()
            raise ClusterUnreachable(str(error)) from error
        finally:
            _IN_COMMAND.reset(inside)

    async def aclose(self) -> None:
        """Close every connection; from inside a command, only reload the slot map next."""
        if _IN_COMMAND.get():
            self.reload_slots_on_next_call()
            return
        await super().aclose()

    def pipeline(self, transaction: Any | None = None, shard_hint: Any | None = None) -> Any:
        """A non-transactional pipeline (the only kind used here), split per node."""
        if transaction or shard_hint:
            raise RedisClusterException("only non-transactional pipelines are used here")
        return SessionClusterPipeline(self)  # type: ignore[abstract]

    def reload_slots_on_next_call(self) -> None:
        """Reload the slot map before the next command, as RedisCluster does itself after
        a connection error on a single command."""
        self._initialize = True


class SessionClusterPipeline(ClusterPipeline):
    """A Cluster pipeline that reloads the slot map after the Cluster failed it."""

    def __init__(self, client: SessionCluster) -> None:
        super().__init__(client)
        self.session_cluster = client

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        """Send the queued commands, one batch per node."""
        inside = _IN_COMMAND.set(True)
        try:
            return await super().execute(raise_on_error, allow_redirections)
        except (ConnectionError, TimeoutError, ClusterDownError):
            self.session_cluster.reload_slots_on_next_call()
            raise
        except SlotNotCoveredError as error:
            self.session_cluster.reload_slots_on_next_call()
            raise ClusterUnreachable(str(error)) from error
        finally:
            _IN_COMMAND.reset(inside)


def uses_cluster(client: RedisClient) -> bool:
    """True for a Cluster client (it has no single connection pool)."""
    return isinstance(client, RedisCluster)
