"""The app's one error type: a failure the user sees as a page (or JSON) with a status."""

from __future__ import annotations

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
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title or TITLES.get(status, "Error")
        self.offer_sign_in = offer_sign_in
        self.retry_after = retry_after
        self.code = code  # the machine-readable error of a JSON answer
        self.headers = headers or {}


def redis_unavailable() -> AppError:
    """The page shown when the session store cannot be reached."""
    return AppError(
        503,
        "The session store is not reachable right now. Please try again in a moment.",
        retry_after=5,
    )
