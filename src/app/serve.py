"""Serve the app with hypercorn, each worker on its own SO_REUSEPORT listening socket.

`hypercorn` binds one socket in its main process and shares it with every worker; the
kernel then tends to hand most keep-alive connections to a single worker. Sockets bound
per worker with SO_REUSEPORT (hypercorn sets it when it has several workers) let the
kernel spread connections evenly. Everything else is hypercorn's own worker.
"""

from __future__ import annotations

import signal
import sys
from multiprocessing import get_context
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

from hypercorn.asyncio.run import asyncio_worker, uvloop_worker
from hypercorn.config import Config
from hypercorn.run import run

APPLICATION = "app:create_app()"
CONFIG = "app.hypercorn_config"
WORKERS = {"asyncio": asyncio_worker, "uvloop": uvloop_worker}


def load_config(application: str = APPLICATION) -> Config:
    """The hypercorn config of the Procfile (importing it checks the app's settings)."""
    config = Config.from_object(CONFIG)
    config.application_path = application
    return config


def serve_per_worker_sockets(config: Config) -> int:
    """Run `config.workers` workers that each bind their own socket; stop all when one stops."""
    context = get_context("spawn")
    shutdown = context.Event()
    worker = WORKERS[config.worker_class]
    processes: list[BaseProcess] = [
        context.Process(
            target=worker,
            kwargs={"config": config, "sockets": None, "shutdown_event": shutdown},
        )
        for _ in range(config.workers)
    ]
    # Workers inherit SIG_IGN for SIGINT, so a terminal's Ctrl+C stops them through us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for process in processes:
        process.start()

    def stop(*_: Any) -> None:
        shutdown.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait([process.sentinel for process in processes])
    shutdown.set()
    for process in processes:
        process.join(config.graceful_timeout + 5)
        if process.exitcode is None:
            process.terminate()
            process.join()
    return max((abs(process.exitcode or 0) for process in processes), default=0)


def main(argv: list[str]) -> int:
    """Serve `argv[0]` (default: the app) with several workers on their own sockets, or one."""
    config = load_config(*argv[:1])
    if config.workers > 1:
        return serve_per_worker_sockets(config)
    return run(config)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
