"""GET /metrics: the Prometheus metrics of every worker, for a scraper holding METRICS_TOKEN.

Without METRICS_TOKEN the route answers 404 like any unknown page. With it, a request without
`Authorization: Bearer <METRICS_TOKEN>` gets a 401 JSON error. No session is read or
written here (the session store skips /metrics).
"""

from __future__ import annotations

import hmac

from quart import Blueprint, abort, request
from quart.typing import ResponseReturnValue

from app.config import current_settings
from app.observability import metrics

blueprint = Blueprint("metrics", __name__)

CHALLENGE = 'Bearer realm="metrics"'


def presented_token() -> str | None:
    """The bearer token of the request, if it sent one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def unauthorized(code: str, description: str) -> ResponseReturnValue:
    """The 401 JSON answer with its Bearer challenge."""
    challenge = CHALLENGE if code == "missing_token" else f'{CHALLENGE}, error="{code}"'
    body = {"error": code, "error_description": description}
    return body, 401, {"WWW-Authenticate": challenge, "Cache-Control": "no-store"}


@blueprint.get("/metrics")
async def prometheus_metrics() -> ResponseReturnValue:
    """Every metric in Prometheus text format, summed over all workers."""
    secret = current_settings().METRICS_TOKEN
    expected = secret.get_secret_value().encode() if secret is not None else b""
    if not expected:
        abort(404)
    token = presented_token()
    if token is None:
        return unauthorized("missing_token", "A bearer token is required (METRICS_TOKEN).")
    if not hmac.compare_digest(token.encode(), expected):
        return unauthorized("invalid_token", "The bearer token is not METRICS_TOKEN.")
    body, content_type = metrics.exposition()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}
