"""Log redaction and formats, request ids, and the bounded label values of the metrics."""

from __future__ import annotations

import json
import logging
import sys

import aiohttp
import pytest
from logto import LogtoException
from multidict import CIMultiDict, CIMultiDictProxy
from prometheus_client import REGISTRY
from yarl import URL

from app.config import Settings
from app.errors import AppError
from app.observability import metrics
from app.observability.logs import (
    JsonFormatter,
    RedactingFilter,
    Redactor,
    TextFormatter,
    configured_secrets,
)
from app.observability.request_hooks import request_id

JWT = "eyJhbGciOiJFUzM4NCIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTEiLCJub25jZSI6Im4ifQ.c2lnbmF0dXJl"
OPAQUE = "Rk3pQ9sLx2ZbT7yWm4Nc8Vd1Hf6Jg0KeAaBbCcDdEe1"  # like a session id or Logto token
SECRET = "configured-secret-value"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"id_token_hint={JWT}", JWT),
        (f"token {JWT} refused", JWT),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("AUTHORIZATION: BEARER abc.def-ghi", "abc.def-ghi"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("GET /callback?code=the-code&state=the-state HTTP/1.1", "the-code"),
        ("GET /callback?code=the-code&state=the-state HTTP/1.1", "the-state"),
        ("Cookie: session=short-session-id; other=1", "short-session-id"),
        ("Set-Cookie: __Host-session=short-id; Path=/", "short-id"),
        ('{"refresh_token": "rt-value", "expires_in": 3600}', "rt-value"),
        ("input_value={'access_token': 'at-valu...', 'scope': 'x'}", "at-valu"),
        ("form client_secret=cs-value&x=1", "cs-value"),
        (f"unknown session {OPAQUE}", OPAQUE),
        (f"the key is {SECRET}!", SECRET),
    ],
)
def test_credentials_are_masked(text: str, secret: str) -> None:
    redacted = Redactor([SECRET])(text)
    assert secret not in redacted
    assert "[redacted]" in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Redis unavailable while opening a session: Error 111 connecting to 127.0.0.1:6379.",
        "Back-channel logout ended 2 session(s)",
        'File "/srv/app/src/app/oidc/flows.py", line 117, in provider_call_with_a_long_name',
        "LOGTO_ENDPOINT https://tenant.logto.app is unreachable (ClientConnectorError)",
        "GET /profile 200 1.25 ms",
        "request 0123456789abcdef0123456789abcdef",  # a request id (hex, one case)
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor([SECRET])(text) == text


def test_the_configured_secrets_are_masked() -> None:
    settings = Settings(
        _env_file=None,
        SECRET_KEY="k" * 40,
        LOGTO_APP_SECRET="app-secret-value",
        METRICS_TOKEN="metrics-token-value",
    )
    redact = Redactor(configured_secrets(settings))
    assert redact(f"{'k' * 40} app-secret-value metrics-token-value") == " ".join(
        ["[redacted]"] * 3
    )


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    """A log record as `logger.warning(message, *args)` would make it."""
    exc_info = None
    if exc:
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("app", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_json_line_is_one_redacted_object() -> None:
    entry = record("refused %s", f"code=abc&state={OPAQUE}", exc=True)
    entry.request_id, entry.route, entry.sub = "rid-1", "/callback", "user-1"
    assert RedactingFilter(Redactor()).filter(entry)
    line = JsonFormatter().format(entry)
    assert "\n" not in line and OPAQUE not in line and JWT not in line
    parsed = json.loads(line)
    assert parsed["message"] == "refused code=[redacted]&state=[redacted]"
    assert (parsed["level"], parsed["logger"], parsed["request_id"]) == ("WARNING", "app", "rid-1")
    assert (parsed["route"], parsed["sub"]) == ("/callback", "user-1")
    assert "ValueError: bad token [redacted]" in parsed["exception"]


def test_a_text_line_carries_the_request_id() -> None:
    entry = record("hello")
    entry.request_id, entry.route = "rid-2", "/"
    line = TextFormatter().format(entry)
    assert " WARNING " in line and "app request_id=rid-2: hello (route=/)" in line


def test_log_format_is_json_in_production_and_text_elsewhere() -> None:
    def settings(**values: object) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    assert settings(APP_ENV="production").log_format == "json"
    assert settings(APP_ENV="development").log_format == "text"
    assert settings(APP_ENV="production", LOG_FORMAT="text").log_format == "text"
    assert settings(APP_ENV="test", LOG_FORMAT="json").log_format == "json"
    assert settings(ACCESS_LOG="").ACCESS_LOG is False
    assert settings(ACCESS_LOG="1").ACCESS_LOG is True


@pytest.mark.parametrize("incoming", ["abc", "Heroku-1.2_3", "x" * 128])
def test_a_valid_incoming_request_id_is_kept(incoming: str) -> None:
    assert request_id(incoming) == incoming


@pytest.mark.parametrize("incoming", [None, "", "x" * 129, "a b", "a\nb", "é", "<script>"])
def test_any_other_request_id_is_replaced(incoming: str | None) -> None:
    generated = request_id(incoming)
    assert generated != incoming and len(generated) == 32
    assert request_id(incoming) != generated


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
