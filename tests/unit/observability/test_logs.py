"""Log redaction (of credentials and the configured secrets) and the JSON and text formats."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from app.config import Settings
from app.observability.logs import (
    JsonFormatter,
    RedactingFilter,
    Redactor,
    TextFormatter,
    configured_secrets,
)

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
