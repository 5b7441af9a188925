"""The one place that turns failures into pages: domain errors, HTTP errors, outages."""

from __future__ import annotations

import json

from quart import Quart, Response, request
from quart.typing import ResponseReturnValue
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.errors import TITLES, AppError, redis_unavailable
from app.observability.metrics import redis_errors
from app.sessions.store import SESSIONLESS_PATHS
from app.web.rendering import render_page

# Session-less routes answer JSON (programs call them, not people), so their errors are JSON
# too; static files are the exception.
JSON_PREFIXES = tuple(path for path in SESSIONLESS_PATHS if path != "/static/")
NOT_FOUND = "There is no page at this address. It may have moved, or the link may be mistyped."


def wants_json() -> bool:
    """True when the current request is to a JSON route."""
    return request.path.startswith(JSON_PREFIXES)


async def render_error(error: AppError) -> tuple[str, int, dict[str, str]]:
    """The error as the shared page, or as JSON on JSON routes, with its headers."""
    headers = {"Cache-Control": "no-store", **error.headers}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if wants_json():
        body = json.dumps(
            {"error": error.code or _code(error.status), "error_description": error.message}
        )
        headers["Content-Type"] = "application/json"
        return body, error.status, headers
    return await render_page("error.html", error=error), error.status, headers


def _code(status: int) -> str:
    """A snake_case error code from a status's title ("Page not found" -> "page_not_found")."""
    return TITLES.get(status, "error").lower().replace(" ", "_")


async def replace_with_outage(response: Response) -> None:
    """Turn a response built before its session write failed into the outage page."""
    body, status, headers = await render_error(redis_unavailable())
    for name in ("Location", "Set-Cookie", "Content-Type"):
        response.headers.pop(name, None)
    response.status_code = status
    response.content_type = "text/html; charset=utf-8"
    response.headers.update(headers)
    response.set_data(body)


def init_app(app: Quart) -> None:
    """Register the handlers: domain errors, HTTP errors, Redis outages, anything else."""

    @app.errorhandler(AppError)
    async def handle_app_error(error: AppError) -> ResponseReturnValue:
        return await render_error(error)

    @app.errorhandler(HTTPException)
    async def handle_http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        message = NOT_FOUND if status == 404 else error.description or TITLES.get(status, "Error")
        return await render_error(AppError(status, message))

    @app.errorhandler(RedisError)
    async def handle_redis_error(error: RedisError) -> ResponseReturnValue:
        redis_errors.labels("request").inc()
        app.logger.warning("Redis unavailable: %s", error)
        return await render_error(redis_unavailable())

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> ResponseReturnValue:
        app.logger.exception("Unhandled error", exc_info=error)
        return await render_error(
            AppError(500, "An unexpected error occurred. It has been logged.")
        )
