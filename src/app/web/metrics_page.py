"""GET /metrics: the Prometheus metrics of every worker, for a scraper holding METRICS_TOKEN.

Without METRICS_TOKEN the route answers 404 like any unknown page. With it, a request without
`Authorization: Bearer <METRICS_TOKEN>` gets a 401 JSON error. No session is read or
written here (the session store skips /metrics).
"""

from __future__ import annotations

import hmac

from quart import Blueprint, abort
from quart.typing import ResponseReturnValue

from app.auth import logto
from app.observability import metrics
from app.oidc.bearer import bearer_error, presented_token

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
async def prometheus_metrics() -> ResponseReturnValue:
    """Every metric in Prometheus text format, summed over all workers."""
    secret = logto.settings.METRICS_TOKEN
    expected = secret.get_secret_value().encode() if secret is not None else b""
    if not expected:
        abort(404)
    token = presented_token()
    if token is None:
        raise bearer_error(
            401, None, "A bearer token is required (METRICS_TOKEN).", realm="metrics"
        )
    if not hmac.compare_digest(token.encode(), expected):
        raise bearer_error(
            401, "invalid_token", "The bearer token is not METRICS_TOKEN.", realm="metrics"
        )
    body, content_type = metrics.exposition()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}
