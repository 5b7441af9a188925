"""Liveness and readiness probes."""

from __future__ import annotations

from quart import Blueprint, current_app
from quart.typing import ResponseReturnValue
from redis.exceptions import RedisError

from app.auth import logto
from app.observability.metrics import redis_errors

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
async def healthz() -> ResponseReturnValue:
    """The process is up and serving."""
    return {"status": "ok"}


@blueprint.get("/readyz")
async def readyz() -> ResponseReturnValue:
    """Ready when Redis answers a PING."""
    try:
        await logto.store.ping()
    except RedisError as error:
        redis_errors.labels("readyz").inc()
        # The detail (host, port, error) goes to the log only: probes may be public.
        current_app.logger.warning("Readiness: Redis unavailable: %s", error)
        return {"status": "unavailable", "redis": "unavailable"}, 503, {"Retry-After": "5"}
    return {"status": "ok", "redis": "ok"}
