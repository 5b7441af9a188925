"""Serve the app with hypercorn: workers on their own sockets, shared metrics, graceful stop.

`hypercorn` binds one socket in its main process and shares it with every worker; the
kernel then tends to hand most keep-alive connections to a single worker. Sockets bound
per worker with SO_REUSEPORT (hypercorn sets it when it has several workers) let the
kernel spread connections evenly. Everything else is hypercorn's own worker.

This main process also gives the workers a fresh PROMETHEUS_MULTIPROC_DIR, so GET /metrics
sums every worker's samples, and removes it at exit. On SIGTERM (what Procfile platforms
send, to this process or to the whole group) or SIGINT, each worker stops accepting
connections and lets the requests in flight finish, session writes included, for up to
`graceful_timeout` seconds; a worker still running after that (and a few seconds to close
its pools) is killed.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import get_context
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from types import FrameType
from typing import Any, cast

from hypercorn.asyncio.run import asyncio_worker, uvloop_worker
from hypercorn.config import Config
from hypercorn.run import run
from prometheus_client import multiprocess

from app.config import Settings, process_settings
from app.observability import logs
from app.observability.metrics import MULTIPROC_DIR

APPLICATION = "app:create_app()"
CONFIG = "app.hypercorn_config"
WORKERS = {"asyncio": asyncio_worker, "uvloop": uvloop_worker}
SHUTDOWN_SLACK = 5.0  # seconds after graceful_timeout for a worker to close its pools and exit
MAX_GRACEFUL_TIMEOUT = 25.0

logger = logging.getLogger("app.serve")


def graceful_timeout_for(settings: Settings) -> float:
    """Seconds that requests in flight get to finish on SIGTERM: a call to Logto and the Redis
    calls around it, within the 30 s that platforms wait before SIGKILL."""
    return min(settings.PROVIDER_TIMEOUT + 2 * settings.REDIS_TIMEOUT + 1, MAX_GRACEFUL_TIMEOUT)


def load_config(application: str = APPLICATION) -> Config:
    """The hypercorn config of the Procfile (importing it checks the app's settings)."""
    config = Config.from_object(CONFIG)
    config.application_path = application
    return config


class StopSignal:
    """A worker's shutdown event: set by the main process, by SIGTERM, or by the main's death.

    Hypercorn's worker polls `is_set()` every 0.1 s. SIGTERM only sets a flag here: a direct
    SIGTERM (platforms signal every process of the group) must stop the worker gracefully,
    not kill it with requests in flight.
    """

    def __init__(self, shared: EventType) -> None:
        self.shared = shared
        self.parent = os.getppid()
        self.terminated = False
        signal.signal(signal.SIGTERM, self._terminate)

    def _terminate(self, signum: int, frame: FrameType | None) -> None:
        self.terminated = True

    def is_set(self) -> bool:
        """True once this worker should stop accepting and finish what is in flight."""
        return self.terminated or self.shared.is_set() or os.getppid() != self.parent


def worker(config: Config, shutdown_event: EventType) -> None:
    """Run one hypercorn worker until the main process, or a SIGTERM, stops it."""
    stop = StopSignal(shutdown_event)
    WORKERS[config.worker_class](config, None, cast(EventType, stop))


def serve_per_worker_sockets(config: Config) -> int:
    """Run `config.workers` workers that each bind their own socket; stop all when one stops."""
    context = get_context("spawn")
    shutdown = context.Event()
    processes: list[BaseProcess] = [
        context.Process(target=worker, kwargs={"config": config, "shutdown_event": shutdown})
        for _ in range(config.workers)
    ]
    # Workers inherit SIG_IGN for SIGINT, so a terminal's Ctrl+C stops them through us, and
    # for SIGTERM until they can stop gracefully (see StopSignal): one that arrives while a
    # worker still starts reaches it through us too.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for process in processes:
        process.start()

    def stop(*_: Any) -> None:
        shutdown.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait([process.sentinel for process in processes])
    shutdown.set()
    deadline = time.monotonic() + config.graceful_timeout + SHUTDOWN_SLACK
    for process in processes:
        process.join(max(deadline - time.monotonic(), 0))
    for process in processes:
        if process.exitcode is None:
            process.kill()  # SIGTERM would only ask again
            process.join()
        if process.pid is not None:
            multiprocess.mark_process_dead(process.pid)  # type: ignore[no-untyped-call]
    return max((abs(process.exitcode or 0) for process in processes), default=0)


@contextmanager
def metrics_directory() -> Iterator[str | None]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for this run's workers (they inherit the variable)."""
    try:
        path = tempfile.mkdtemp(prefix="app-metrics-")
    except OSError as error:  # a read-only file system: each worker then counts for itself
        logger.warning(
            "GET /metrics shows one worker at a time: no temporary directory (%s)", error
        )
        yield None
        return
    os.environ[MULTIPROC_DIR] = path
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str]) -> int:
    """Serve `argv[0]` (default: the app) with its workers on their own sockets."""
    config = load_config(*argv[:1])
    logs.configure(process_settings())  # read and checked by load_config
    if config.workers < 1:
        return run(config)  # no worker processes: hypercorn serves in this one
    with metrics_directory():
        return serve_per_worker_sockets(config)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
