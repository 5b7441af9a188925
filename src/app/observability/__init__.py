"""Metrics, structured logs and request ids: what an operator sees of the running service.

`init_app(app)` gives every request an id (the `X-Request-ID` header), counts and times it by
route and status, and writes its log line; `metrics` holds the Prometheus metrics (served by
GET /metrics, see app.web.metrics), `logs` the log format and its redaction.
"""

from __future__ import annotations

from quart import Quart

from app.config import Settings
from app.observability import logs, requests


def init_app(app: Quart) -> None:
    """Configure logging and register the per-request hooks (call before other hooks)."""
    settings: Settings = app.extensions["settings"]
    logs.configure(settings)
    requests.init_app(app, settings)
