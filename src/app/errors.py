"""The app's one error type and the handlers that turn every failure into a page."""

from __future__ import annotations

from quart import Quart
from quart.typing import ResponseReturnValue
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.rendering import render_page

TITLES = {
    400: "Bad request",
    401: "Signed out",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    500: "Something went wrong",
    502: "Sign-in service unavailable",
    503: "Service unavailable",
    504: "Sign-in service timed out",
}


class AppError(Exception):
    """A failure the user should see as a page with a status, a title and a message."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        title: str | None = None,
        offer_sign_in: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or TITLES.get(status, "Error")
        self.offer_sign_in = offer_sign_in
        self.retry_after = retry_after


def redis_unavailable() -> AppError:
    """The page shown when the session store cannot be reached."""
    return AppError(
        503,
        "The session store is not reachable right now. Please try again in a moment.",
        retry_after=5,
    )


async def render_error(error: AppError) -> ResponseReturnValue:
    """Render the shared error page for `error`."""
    body = await render_page("error.html", error=error)
    headers = {"Cache-Control": "no-store"}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return body, error.status, headers


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
