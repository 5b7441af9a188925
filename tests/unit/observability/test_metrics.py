"""The metrics' label values come from small fixed sets, whatever the traffic."""

from __future__ import annotations

import aiohttp
import pytest
from logto import LogtoException
from multidict import CIMultiDict, CIMultiDictProxy
from prometheus_client import REGISTRY
from yarl import URL

from app.errors import AppError
from app.observability import metrics


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://t.logto.app/oidc/.well-known/openid-configuration", "discovery"),
        ("https://t.logto.app/oidc/jwks", "jwks"),
        ("https://t.logto.app/oidc/token", "token"),
        ("https://t.logto.app/oidc/me", "userinfo"),
        ("https://t.logto.app/oidc/token/revocation", "revocation"),
        ("https://t.logto.app/oidc/anything-else?x=1", "other"),
    ],
)
def test_provider_endpoints_are_named_from_the_path(url: str, endpoint: str) -> None:
    assert metrics.endpoint_of(url) == endpoint


def test_label_values_come_from_fixed_sets() -> None:
    url = URL("http://x/oidc/token")
    request_info = aiohttp.RequestInfo(url, "POST", CIMultiDictProxy(CIMultiDict()), url)

    def response_error(status: int) -> aiohttp.ClientResponseError:
        return aiohttp.ClientResponseError(request_info, (), status=status)

    results = {
        None: "ok",
        LogtoException("invalid_grant"): "refused",
        response_error(404): "refused",
        response_error(503): "error",
        aiohttp.ClientConnectionError("refused"): "unreachable",
        TimeoutError(): "timeout",
        ValueError("not JSON"): "error",
    }
    for error, result in results.items():
        assert metrics.provider_result(error) == result
        assert result in metrics.PROVIDER_RESULTS
    for status, reason in [(400, "rejected"), (502, "provider"), (504, "provider"), (503, "store")]:
        assert metrics.sign_in_failure_reason(AppError(status, "x")) == reason
    assert metrics.sign_in_failure_reason(RuntimeError()) == "error"
    assert metrics.refresh_result(AppError(401, "gone")) == "refused"
    assert metrics.refresh_result(AppError(403, "no token")) == "unavailable"
    assert metrics.refresh_result(aiohttp.ClientConnectionError()) == "error"


def requests_counted(method: str, route: str, status: str) -> float:
    """What http_requests_total says so far for these labels (this process's registry)."""
    labels = {"method": method, "route": route, "status": status}
    return REGISTRY.get_sample_value("http_requests_total", labels) or 0.0


def test_unusual_methods_share_one_label() -> None:
    before = requests_counted("other", "/", "405")
    metrics.observe_request("BREW", "/", 405, 0.001)
    metrics.observe_request("PURGE", "/", 405, 0.001)
    assert requests_counted("other", "/", "405") == before + 2, "both counted under one label"
    assert requests_counted("BREW", "/", "405") == requests_counted("PURGE", "/", "405") == 0
