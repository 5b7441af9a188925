"""A throwaway Sentinel set on 127.0.0.1: a primary, its replica and three sentinels.

Same binary as RedisServer. The sentinels call the primary down after one second without an
answer and fail over at once, so a failover takes a few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

from devstack.ports import LOOPBACK
from devstack.process import ProcessError
from devstack.redis_server import RedisServer

PRIMARY_NAME = "sessions"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


class SentinelServer(RedisServer):
    """redis-server in sentinel mode, watching the primary at `primary_port`."""

    def __init__(self, primary_port: int, *, quorum: int, name: str) -> None:
        super().__init__(name=name)
        self.primary_port = primary_port
        self.quorum = quorum

    def leading_args(self) -> list[str]:
        """Sentinel needs a configuration file it can rewrite, before any other option."""
        config = Path(self.directory) / "sentinel.conf"
        config.write_text(
            f"sentinel monitor {PRIMARY_NAME} {LOOPBACK} {self.primary_port} {self.quorum}\n"
            f"sentinel down-after-milliseconds {PRIMARY_NAME} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {PRIMARY_NAME} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {PRIMARY_NAME} 1\n"
        )
        return [str(config), "--sentinel"]


class RedisSentinelSet:
    """A primary, `replicas` replicas and `sentinels` sentinels (quorum: a majority)."""

    def __init__(self, replicas: int = 1, sentinels: int = 3, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        sync = ("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
        self.primary = RedisServer(args=sync, name="Sentinel-managed primary")
        self.replicas = [
            RedisServer(
                args=[*sync, "--replicaof", LOOPBACK, str(self.primary.port)],
                name=f"Sentinel-managed replica {number + 1}",
            )
            for number in range(replicas)
        ]
        self.sentinels = [
            SentinelServer(self.primary.port, quorum=sentinels // 2 + 1, name=f"sentinel {n + 1}")
            for n in range(sentinels)
        ]
        self.data_nodes = [self.primary, *self.replicas]
        self._stack = ExitStack()

    @property
    def url(self) -> str:
        """REDIS_URL for the app: every sentinel, the primary's name, database 0."""
        hosts = ",".join(f"{LOOPBACK}:{sentinel.port}" for sentinel in self.sentinels)
        return f"redis+sentinel://{hosts}/{PRIMARY_NAME}/0"

    def start(self) -> Self:
        """Start the data nodes, then the sentinels; wait until they all know each other."""
        try:
            for part in [*self.data_nodes, *self.sentinels]:
                self._stack.callback(part.stop)
                part.start()
            self._wait(self._ready, "did not see its replica and every sentinel in time")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every process (by its PID) and remove their directories."""
        self._stack.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def client(self, node: RedisServer) -> redis.Redis:
        """A plain client on one process."""
        return redis.Redis(host=LOOPBACK, port=node.port, decode_responses=True, socket_timeout=2)

    def current_primary(self) -> RedisServer:
        """The data node a running sentinel names as the primary now."""
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            with self.client(sentinel) as client:
                try:
                    _, port = client.sentinel_get_master_addr_by_name(PRIMARY_NAME)
                except redis.RedisError:
                    continue
            return next(node for node in self.data_nodes if node.port == int(port))
        raise ProcessError("Redis Sentinel", "has no running sentinel that names a primary")

    def wait_for_replicas(self, timeout: float = 10.0) -> None:
        """Wait until every running replica has received what the primary has so far."""
        primary = self.current_primary()
        with self.client(primary) as source:
            written = int(source.info("replication")["master_repl_offset"])
        for replica in self.data_nodes:
            if replica is primary or not replica.running:
                continue
            with self.client(replica) as copy:

                def caught_up(copy: redis.Redis = copy) -> bool:
                    return int(copy.info("replication").get("slave_repl_offset", -1)) >= written

                self._wait(caught_up, "replica did not catch up in time", timeout)

    def wait_for_promotion(self, old: RedisServer, timeout: float = 30.0) -> RedisServer:
        """Wait until the sentinels name another primary than `old`, and it says so itself."""

        def promoted() -> bool:
            primary = self.current_primary()
            if primary is old:
                return False
            with self.client(primary) as client:
                return bool(client.info("replication")["role"] == "master")

        self._wait(promoted, "promoted no replica in time", timeout)
        return self.current_primary()

    def _ready(self) -> bool:
        others = len(self.sentinels) - 1
        for sentinel in self.sentinels:
            with self.client(sentinel) as client:
                state = client.sentinel_master(PRIMARY_NAME)
                if int(state["num-slaves"]) < len(self.replicas):
                    return False
                if int(state["num-other-sentinels"]) < others:
                    return False
        for replica in self.replicas:
            with self.client(replica) as client:
                if client.info("replication").get("master_link_status") != "up":
                    return False
        return True

    def _wait(self, done: Callable[[], bool], failure: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                if done():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise ProcessError("Redis Sentinel", failure)
            time.sleep(0.1)
