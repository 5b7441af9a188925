"""Per-request bookkeeping: the request id, the request metrics and the request's log line.

The id is the incoming `X-Request-ID` when it is a plain token (1-128 characters of
A-Z a-z 0-9 . _ -, as routers such as Heroku's send), else a new random one. It is sent back
in `X-Request-ID`, shown on error pages and carried by every log line of the request.

A thin ASGI wrapper stamps the id and the start time before Quart opens the session, so the
duration includes the session read and a warning logged while reading it has the id too.
The app's hooks add the route and user, send the header, and count and log the request.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, Scope
from quart import Quart, Response, request

from app.config import Settings
from app.observability import metrics
from app.observability.context import CURRENT, RequestInfo, current_request_id

HEADER = "X-Request-ID"
ASGI_HEADER = b"x-request-id"  # ASGI header names are lower case
VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
REQUEST_LOGGER = logging.getLogger("app.request")
NOT_LOGGED = frozenset({404})  # without ACCESS_LOG: every error answer but "no such page"


def request_id(incoming: str | None) -> str:
    """`incoming` when it is a valid request id, else a new one."""
    if incoming and VALID_ID.fullmatch(incoming):
        return incoming
    return secrets.token_hex(16)


class StampRequests:
    """ASGI middleware: give each HTTP request its id and start time before the app runs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """Stamp an HTTP request (each runs in its own task, so its own context), then serve it."""
        if scope["type"] == "http":
            incoming = next((v for n, v in scope["headers"] if n == ASGI_HEADER), None)
            rid = request_id(incoming.decode("latin-1") if incoming is not None else None)
            CURRENT.set(RequestInfo(rid, "", time.perf_counter()))  # route: once routed
        await self.app(scope, receive, send)


def init_app(app: Quart, settings: Settings, signed_in_sub: Callable[[], str | None]) -> None:
    """Wrap the app and register the hooks (the first before_request: later failures have an id)."""
    log_every_request = settings.ACCESS_LOG
    app.asgi_app = StampRequests(app.asgi_app)  # type: ignore[method-assign]
    app.jinja_env.globals["request_id"] = current_request_id

    @app.before_request
    async def add_route_and_user() -> None:
        info = CURRENT.get()
        if info is None:  # served without the wrapper
            info = RequestInfo(request_id(request.headers.get(HEADER)), "", time.perf_counter())
            CURRENT.set(info)
        rule = request.url_rule
        info.route = rule.rule if rule is not None else metrics.UNMATCHED
        info.sub = signed_in_sub()

    @app.after_request
    async def send_request_id(response: Response) -> Response:
        info = CURRENT.get()
        if info is not None:
            response.headers.add(HEADER, info.id)  # no view sets it: no need to replace one
            info.response = response  # its status may still change if the session save fails
        return response

    @app.teardown_request
    async def count_and_log(_: BaseException | None) -> None:
        info = CURRENT.get()
        if info is None or info.response is None:
            return
        seconds = time.perf_counter() - info.started
        status = info.response.status_code
        metrics.observe_request(request.method, info.route or metrics.UNMATCHED, status, seconds)
        if log_every_request or (status >= 400 and status not in NOT_LOGGED):
            log_request(info, status, seconds, signed_in_sub)


def log_request(
    info: RequestInfo, status: int, seconds: float, signed_in_sub: Callable[[], str | None]
) -> None:
    """The request's one line: method, path, status and duration (and route, id, user)."""
    duration_ms = round(seconds * 1000, 2)
    extra: dict[str, Any] = {
        "method": request.method,
        "status": status,
        "duration_ms": duration_ms,
        "sub": signed_in_sub() or info.sub,  # signed in by this request, or out by it
    }
    level = logging.WARNING if status >= 500 else logging.INFO
    REQUEST_LOGGER.log(
        level, "%s %s %d %.2f ms", request.method, request.path, status, duration_ms, extra=extra
    )
