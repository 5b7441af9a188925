"""The app and its baselines as child processes, each served like the Procfile says."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from devstack import AppServer, ProcessError

ASGI_HELLO = "benchmarks.baselines.asgi_hello:app"
QUART_HELLO = "benchmarks.baselines.quart_hello:app"
# gunicorn's default (sync) workers, as the Flask tutorials deploy it, logging each request
# as hypercorn does with the app's settings.
PEER_COMMAND = (
    'gunicorn --workers "$WEB_CONCURRENCY" --bind "$HOST:$PORT" --access-logfile - '
    "benchmarks.baselines.flask_peer:app"
)


class ProcfileServer(AppServer):
    """The Procfile's web command (same hypercorn config and settings) serving `target`."""

    def __init__(
        self,
        name: str,
        target: str,
        settings: Mapping[str, str],
        *,
        workers: int,
        port: int | None = None,
    ) -> None:
        super().__init__(settings, port=port, workers=workers, timeout=60)
        # Same command, other application: only the last argument (the app) changes.
        self.command = with_target(str(self.command), target)
        self.name = name


class PeerServer(AppServer):
    """The Flask peer under gunicorn with as many workers, ready once /healthz answers."""

    def __init__(self, settings: Mapping[str, str], *, workers: int) -> None:
        super().__init__(settings, workers=workers, timeout=60)
        self.command = PEER_COMMAND
        self.name = "Flask peer"


def with_target(command: str, target: str) -> str:
    """The Procfile command with its application argument replaced by `target`."""
    head, _, application = command.rpartition(" ")
    if "app:" not in application:
        raise ProcessError("benchmark", f"cannot find the app argument in {command!r}")
    return f"{head} {shlex.quote(target)}"
