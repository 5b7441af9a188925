"""The one place that turns failures into pages: domain errors, HTTP errors, outages."""

from __future__ import annotations

from quart import Quart, Response
from quart.typing import ResponseReturnValue
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.errors import TITLES, AppError, redis_unavailable
from app.web.rendering import render_page


async def render_error(error: AppError) -> tuple[str, int, dict[str, str]]:
    """Render the shared error page for `error`."""
    body = await render_page("error.html", error=error)
    headers = {"Cache-Control": "no-store"}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return body, error.status, headers


async def replace_with_error(response: Response, error: AppError) -> None:
    """Turn a response built before a late failure (the session write) into `error`'s page."""
    body, status, headers = await render_error(error)
    for name in ("Location", "Set-Cookie", "Content-Type"):
        response.headers.pop(name, None)
    response.status_code = status
    response.headers.update(headers)
    response.content_type = "text/html; charset=utf-8"
    response.set_data(body)


def init_app(app: Quart) -> None:
    """Register the handlers: domain errors, HTTP errors, Redis outages, anything else."""

    @app.errorhandler(AppError)
    async def handle_app_error(error: AppError) -> ResponseReturnValue:
        return await render_error(error)

    @app.errorhandler(HTTPException)
    async def handle_http_error(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 500
        message = error.description or TITLES.get(status, "Error")
        return await render_error(AppError(status, message))

    @app.errorhandler(RedisError)
    async def handle_redis_error(error: RedisError) -> ResponseReturnValue:
        app.logger.warning("Redis unavailable: %s", error)
        return await render_error(redis_unavailable())

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> ResponseReturnValue:
        app.logger.exception("Unhandled error", exc_info=error)
        return await render_error(
            AppError(500, "An unexpected error occurred. It has been logged.")
        )
