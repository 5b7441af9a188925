"""Metrics, structured logs and request ids: what an operator sees of the running service.

`init_app(app)` gives every request an id (the `X-Request-ID` header), counts and times it by
route and status, and writes its log line; `metrics` holds the Prometheus metrics (served by
GET /metrics, see app.web.metrics_page), `logs` the log format and its redaction.
"""

from __future__ import annotations

from collections.abc import Callable

from quart import Quart

from app.config import Settings
from app.observability import logs, request_hooks


def init_app(app: Quart, settings: Settings, *, signed_in_sub: Callable[[], str | None]) -> None:
    """Configure logging and register the per-request hooks (call before other hooks);
    `signed_in_sub` tells who is signed in to the current request, for its log line."""
    logs.configure(settings)
    request_hooks.init_app(app, settings, signed_in_sub)
