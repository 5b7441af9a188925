"""A throwaway Redis Cluster on 127.0.0.1: three primaries, a replica each, the same binary.

Built with `redis-cli --cluster create ... --cluster-replicas 1`, ready once every node says
cluster_state:ok and every replica is in sync. A short node timeout makes a replica take
over a failed primary within a few seconds.
"""

from __future__ import annotations

import random
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import redis

from devstack.ports import LOOPBACK, port_is_free
from devstack.process import ProcessError
from devstack.redis_server import RedisServer, redis_cli_executable

NODE_TIMEOUT_MS = 1000
BUS_OFFSET = 10000  # Redis 6.2 talks to the other nodes on port + 10000


@dataclass(frozen=True)
class ClusterNodeInfo:
    """One line of CLUSTER NODES: a node's port, role, primary, and whether it is failing."""

    node_id: str
    port: int
    primary: bool
    failing: bool
    primary_id: str | None


class RedisClusterSet:
    """`primaries` Redis primaries with `replicas` replicas each, as one Cluster."""

    def __init__(self, primaries: int = 3, replicas: int = 1, *, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.replicas = replicas
        args = [
            *("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
            *("--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
            # A replica may always take over, however long it was cut off.
            *("--cluster-replica-validity-factor", "0"),
            *("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"),
        ]
        self.nodes = [
            RedisServer(node_port(), args=args, name=f"Redis Cluster node {number + 1}")
            for number in range(primaries * (1 + replicas))
        ]
        self._stack = ExitStack()

    @property
    def url(self) -> str:
        """REDIS_URL for the app: a few startup nodes (the client discovers the rest)."""
        return "redis+cluster://" + ",".join(f"{LOOPBACK}:{node.port}" for node in self.nodes[:3])

    def start(self) -> Self:
        """Start every node, join them into a Cluster, wait until it serves every slot."""
        try:
            for node in self.nodes:
                self._stack.callback(node.stop)
                node.start()
            self._create()
            self.wait_until_ok()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every node (by its PID) and remove their directories."""
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

    def _create(self) -> None:
        command = [
            redis_cli_executable(),
            "--cluster",
            "create",
            *(f"{LOOPBACK}:{node.port}" for node in self.nodes),
            *("--cluster-replicas", str(self.replicas), "--cluster-yes"),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise ProcessError("Redis Cluster", "was not created in time") from None
        if done.returncode != 0:
            output = (done.stdout + done.stderr).splitlines()[-20:]
            raise ProcessError("Redis Cluster", "could not be created", output)

    def client(self, node: RedisServer) -> redis.Redis:
        """A plain client on one node (to look at it, not through the Cluster)."""
        return redis.Redis(host=LOOPBACK, port=node.port, decode_responses=True, socket_timeout=2)

    def running(self) -> list[RedisServer]:
        """The nodes whose process runs."""
        return [node for node in self.nodes if node.running]

    def topology(self) -> list[ClusterNodeInfo]:
        """What a running node sees (CLUSTER NODES)."""
        with self.client(self.running()[0]) as client:
            nodes = client.execute_command("CLUSTER NODES")  # parsed: address -> fields
        return [_node_info(address, fields) for address, fields in nodes.items()]

    def node(self, port: int) -> RedisServer:
        """The node listening on `port`."""
        return next(node for node in self.nodes if node.port == port)

    def primaries(self) -> list[RedisServer]:
        """The running nodes that are primaries now."""
        ports = {info.port for info in self.topology() if info.primary and not info.failing}
        return [node for node in self.running() if node.port in ports]

    def primary_for(self, key: str) -> RedisServer:
        """The primary that holds `key`'s slot now."""
        node = self.running()[0]
        with self.client(node) as client:
            slot = int(client.execute_command("CLUSTER KEYSLOT", key))
            for start, end, primary, *_ in client.execute_command("CLUSTER SLOTS"):
                if int(start) <= slot <= int(end):
                    return self.node(int(primary[1]))
        raise ProcessError("Redis Cluster", f"has no node for slot {slot}")

    def replica_of(self, primary: RedisServer) -> RedisServer:
        """A running replica of `primary`."""
        infos = self.topology()
        ids = {info.port: info.node_id for info in infos}
        ports = {info.port for info in infos if info.primary_id == ids.get(primary.port)}
        for node in self.running():
            if node.port in ports:
                return node
        raise ProcessError("Redis Cluster", f"has no running replica of port {primary.port}")

    def wait_for_replica(self, primary: RedisServer, timeout: float = 10.0) -> None:
        """Wait until `primary`'s replica has received everything written to it so far."""
        replica = self.replica_of(primary)
        with self.client(primary) as source, self.client(replica) as copy:
            written = int(source.info("replication")["master_repl_offset"])
            deadline = time.monotonic() + timeout
            while int(copy.info("replication").get("slave_repl_offset", -1)) < written:
                if time.monotonic() > deadline:
                    raise ProcessError("Redis Cluster", "replica did not catch up in time")
                time.sleep(0.05)

    def wait_until_ok(self, timeout: float | None = None) -> None:
        """Wait until every node reports cluster_state:ok, knows every other one, and every
        replica is in sync (while all the nodes run: for the start)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while not self._ok():
            if time.monotonic() > deadline:
                raise ProcessError("Redis Cluster", "did not reach cluster_state:ok in time")
            time.sleep(0.1)

    def _ok(self) -> bool:
        try:
            for node in self.running():
                with self.client(node) as client:
                    if client.cluster("INFO")["cluster_state"] != "ok":
                        return False
                    replication = client.info("replication")
                    if replication["role"] == "slave" and (
                        replication.get("master_link_status") != "up"
                    ):
                        return False
                    # Every node knows every other one, and which primary each replica has.
                    seen = client.execute_command("CLUSTER NODES").values()
                    replicas = [n for n in seen if "slave" in n["flags"] and n["master_id"] != "-"]
                    if len(seen) != len(self.running()) or len(replicas) != self._replicas():
                        return False
        except redis.RedisError:
            return False
        return True

    def _replicas(self) -> int:
        return len(self.nodes) - len(self.nodes) // (1 + self.replicas)


def node_port(tries: int = 500) -> int:
    """A port that is free on 127.0.0.1, and so is its cluster bus port (+10000)."""
    for _ in range(tries):
        port = random.randint(20000, 45000)  # noqa: S311 - not for security
        if port_is_free(port) and port_is_free(port + BUS_OFFSET):
            return port
    raise ProcessError("Redis Cluster", "found no free pair of ports")


def _node_info(address: str, fields: dict[str, Any]) -> ClusterNodeInfo:
    flags = str(fields["flags"]).split(",")
    return ClusterNodeInfo(
        node_id=str(fields["node_id"]),
        port=int(address.split("@")[0].rsplit(":", 1)[1]),
        primary="master" in flags,
        failing="fail" in flags or "fail?" in flags,
        primary_id=None if fields["master_id"] == "-" else str(fields["master_id"]),
    )
