"""What is known of the request being served, for its log lines and its error page."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from quart import Response


@dataclass(slots=True)
class RequestInfo:
    """The current request's id, route (URL rule), start time, user and response."""

    id: str
    route: str
    started: float
    sub: str | None = None
    response: Response | None = None


# Set by the first before_request hook; each request runs in its own task, so its own context.
CURRENT: ContextVar[RequestInfo | None] = ContextVar("app_request", default=None)


def current_request() -> RequestInfo | None:
    """The request being served in this context, if any."""
    return CURRENT.get()


def current_request_id() -> str:
    """The current request's id ("" outside a request); templates call it as request_id()."""
    info = CURRENT.get()
    return info.id if info is not None else ""
