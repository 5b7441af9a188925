"""The service's Prometheus metrics, summed over every hypercorn worker.

`python -m app.serve` gives its workers a fresh PROMETHEUS_MULTIPROC_DIR (see app.serve):
prometheus-client then keeps each worker's samples in files there, and GET /metrics, answered
by any one worker, reads them all. Elsewhere (one process, tests) the default in-memory
registry answers. Every label takes values from a small fixed set, so the number of series
stays bounded whatever the traffic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from types import TracebackType
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import aiohttp
from logto import LogtoException
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from app.errors import AppError

P = ParamSpec("P")
T = TypeVar("T")

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"  # the route label of a request that matched no route (404, 405)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A signed-in page takes about a millisecond; a page that calls Logto, tens to hundreds.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROVIDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SIGN_IN_MODES = ("sign_in", "sign_up", "reauthenticate")
# Why a callback failed: the response was refused (400: unknown state, foreign issuer, bad ID
# token, ...), Logto could not be reached or answered badly (502/504), Redis was away (503).
SIGN_IN_FAILURES = ("rejected", "provider", "store", "error")
REFRESH_RESULTS = ("ok", "refused", "unavailable", "error")
BACKCHANNEL_RESULTS = ("ok", "refused")
REDIS_OPERATIONS = ("open_session", "save_session", "request", "readyz")
PROVIDER_RESULTS = ("ok", "refused", "error", "unreachable", "timeout")
# The last path segment of Logto's endpoints (…/oidc/token/revocation ends in "revocation").
ENDPOINT_OF_SEGMENT = {
    "openid-configuration": "discovery",
    "jwks": "jwks",
    "token": "token",
    "me": "userinfo",
    "userinfo": "userinfo",
    "revocation": "revocation",
    "request": "par",
    "my-account": "account",
}

http_requests = Counter(
    "http_requests",
    "Requests answered, by method, route (URL rule) and status.",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "http_request_duration_seconds",
    "Time from the request's start to its response, by route.",
    ["method", "route"],
    buckets=HTTP_BUCKETS,
)
sign_ins_started = Counter(
    "sign_ins_started",
    "Sign-ins sent to Logto, by screen (sign_in, sign_up) or as a re-authentication.",
    ["mode"],
)
sign_ins_completed = Counter("sign_ins_completed", "Callbacks that signed a user in.")
sign_ins_failed = Counter(
    "sign_ins_failed",
    "Callbacks that failed, by reason: " + ", ".join(SIGN_IN_FAILURES) + ".",
    ["reason"],
)
token_refreshes = Counter(
    "token_refreshes",
    "Refresh-token grants, by result: ok, refused (the grant is gone: signed out), "
    "unavailable (no token for that audience), error (Logto unreachable or failing).",
    ["result"],
)
backchannel_logouts = Counter(
    "backchannel_logouts", "Back-channel logout requests, by result (ok, refused).", ["result"]
)
redis_errors = Counter(
    "redis_errors", "Redis calls that failed, by where they failed.", ["operation"]
)
session_cache_lookups = Counter(
    "session_cache_lookups",
    "Session reads by where they were answered: hit (memory), miss (Redis, then kept), "
    "bypass (Redis: the invalidation channel was not live).",
    ["result"],
)
session_cache_hits = session_cache_lookups.labels("hit")
session_cache_misses = session_cache_lookups.labels("miss")
session_cache_bypasses = session_cache_lookups.labels("bypass")
session_cache_evictions = Counter(
    "session_cache_evictions", "Sessions dropped from a worker's cache to stay within its size."
)
provider_requests = Counter(
    "provider_requests", "Requests to Logto, by endpoint and result.", ["endpoint", "result"]
)
provider_request_duration = Histogram(
    "provider_request_duration_seconds",
    "Time Logto took to answer, by endpoint.",
    ["endpoint"],
    buckets=PROVIDER_BUCKETS,
)


def _declare_series() -> None:
    """Create every fixed-label series at 0, so rates and alerts work before the first event."""
    for mode in SIGN_IN_MODES:
        sign_ins_started.labels(mode)
    for metric, labels in (
        (sign_ins_failed, SIGN_IN_FAILURES),
        (token_refreshes, REFRESH_RESULTS),
        (backchannel_logouts, BACKCHANNEL_RESULTS),
        (redis_errors, REDIS_OPERATIONS),
    ):
        for label in labels:
            metric.labels(label)


_declare_series()

# Label children by label values: labels() takes a lock and checks its arguments each time,
# and requests repeat the same few combinations.
_request_counters: dict[tuple[str, str, int], Counter] = {}
_request_timers: dict[tuple[str, str], Histogram] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    if method not in METHODS:
        method = "other"
    counter = _request_counters.get((method, route, status))
    if counter is None:
        counter = http_requests.labels(method, route, str(status))
        _request_counters[(method, route, status)] = counter
    counter.inc()
    timer = _request_timers.get((method, route))
    if timer is None:
        timer = _request_timers[(method, route)] = http_request_duration.labels(method, route)
    timer.observe(seconds)


def sign_in_failure_reason(error: BaseException) -> str:
    """The reason label of a failed callback."""
    status = error.status if isinstance(error, AppError) else 500
    if status in (502, 504):
        return "provider"
    if status == 503:
        return "store"
    return "rejected" if 400 <= status < 500 else "error"


def sign_in_failed(error: BaseException) -> None:
    """Count a failed callback, by the reason its error shows."""
    sign_ins_failed.labels(sign_in_failure_reason(error)).inc()


def refresh_result(error: BaseException | None) -> str:
    """The result label of a refresh that raised `error` (None: it succeeded)."""
    if error is None:
        return "ok"
    status = error.status if isinstance(error, AppError) else None
    return {401: "refused", 403: "unavailable"}.get(status or 0, "error")


def counts_refreshes(refresh: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Count each call of `refresh` by its result: returned (ok), a 401 AppError (refused, the
    session is signed out), a 403 AppError (unavailable for that audience), anything else."""

    @wraps(refresh)
    async def counted(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            result = await refresh(*args, **kwargs)
        except BaseException as error:
            token_refreshes.labels(refresh_result(error)).inc()
            raise
        token_refreshes.labels("ok").inc()
        return result

    return counted


def endpoint_of(url: str) -> str:
    """The endpoint label of a Logto URL, from its last path segment."""
    segment = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    return ENDPOINT_OF_SEGMENT.get(segment, "other")


def provider_result(error: BaseException | None) -> str:
    """The result label of a provider request that raised `error` (None: it succeeded)."""
    if error is None:
        return "ok"
    if isinstance(error, TimeoutError | asyncio.CancelledError):
        return "timeout"  # cancelled: PROVIDER_TIMEOUT ran out around the call
    if isinstance(error, LogtoException):
        return "refused"
    if isinstance(error, aiohttp.ContentTypeError):
        return "error"
    if isinstance(error, aiohttp.ClientResponseError):
        return "refused" if error.status < 500 else "error"
    if isinstance(error, aiohttp.ClientConnectionError | OSError):
        return "unreachable"
    return "error"


class ProviderRequest:
    """Times one provider request and counts it by endpoint and result (a `with` block)."""

    __slots__ = ("endpoint", "started")

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.started = 0.0

    def __enter__(self) -> ProviderRequest:
        self.started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        provider_request_duration.labels(self.endpoint).observe(time.perf_counter() - self.started)
        provider_requests.labels(self.endpoint, provider_result(error)).inc()


def provider_request(url: str, endpoint: str | None = None) -> ProviderRequest:
    """A `with` block that measures the request to `url` (labelled `endpoint` when given)."""
    return ProviderRequest(endpoint or endpoint_of(url))


def is_multiprocess() -> bool:
    """True when this process writes its samples to PROMETHEUS_MULTIPROC_DIR."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def exposition() -> tuple[bytes, str]:
    """Every metric in Prometheus text format (summed over all workers), and its content type."""
    if not is_multiprocess():
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
