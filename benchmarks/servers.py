"""The app and its baselines as child processes, each served like the Procfile says."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from devstack import AppServer, ProcessError

ASGI_HELLO = "benchmarks.baselines.asgi_hello:app"
QUART_HELLO = "benchmarks.baselines.quart_hello:app"
# gunicorn's default (sync) workers, as the Flask tutorials deploy it, without an access log
# like the app's default.
PEER_COMMAND = (
    'gunicorn --workers "$WEB_CONCURRENCY" --bind "$HOST:$PORT" benchmarks.baselines.flask_peer:app'
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
        # Same command, other application: app.serve takes the application as its argument.
        self.command = with_target(str(self.command), target)
        self.name = name


class PeerServer(AppServer):
    """The Flask peer under gunicorn with as many workers, ready once /healthz answers."""

    def __init__(self, settings: Mapping[str, str], *, workers: int) -> None:
        super().__init__(settings, workers=workers, timeout=60)
        self.command = PEER_COMMAND
        self.name = "Flask peer"


def with_target(command: str, target: str) -> str:
    """The Procfile command (`... python -m app.serve`) serving `target` instead of the app."""
    if not command.endswith("-m app.serve"):
        raise ProcessError("benchmark", f"cannot find `-m app.serve` at the end of {command!r}")
    return f"{command} {shlex.quote(target)}"
