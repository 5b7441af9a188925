"""Log lines on stderr, as JSON objects (LOG_FORMAT=json) or readable text, never a secret.

One handler on the root logger serves the app's loggers (`app`, `app.request`), hypercorn's
error log and whatever else warns. Each line carries the id, route and signed-in subject of
the request it was written in. A redaction filter masks what must never be written, whatever
a message happens to contain: JWTs, Bearer values, `code=`/`state=`/token and cookie values,
long random strings (session ids, opaque tokens) and the configured secrets.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from hypercorn.config import Config
from hypercorn.logging import Logger as BaseHypercornLogger
from quart.logging import default_handler

from app.config import Settings, SettingsError, process_settings
from app.observability.context import current_request

# Loggers that write at INFO; everything else keeps the root's WARNING.
INFO_LOGGERS = ("app", "hypercorn.error")
MASK = "[redacted]"
HANDLER_NAME = "app-observability"
# Fields a line may carry besides time, level, logger and message, in this order.
FIELDS = ("request_id", "route", "method", "status", "duration_ms", "sub")

# Query, form and cookie values that are credentials: code=..., state=..., session=...
CREDENTIAL_NAMES = (
    r"access_token|refresh_token|id_token|id_token_hint|logout_token|token|code|state|nonce"
    r"|code_verifier|client_secret|secret|password|session|__Host-session"
)
SECRET_PAIR = re.compile(rf"(?i)(?<![\w-])({CREDENTIAL_NAMES})=[^&\s;,'\"<>]+")
# The same names as quoted keys: "refresh_token": "..." (JSON) or 'code': '...' (a repr).
SECRET_ITEM = re.compile(rf"""(?i)(["'])({CREDENTIAL_NAMES})\1(\s*:\s*)(["'])[^"']*\4""")
BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)*")
# Session ids and opaque tokens: long runs of URL-safe characters mixing cases and digits.
LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
MIN_SECRET_LENGTH = 8  # shorter configured "secrets" would mask ordinary words


def _mask_random(match: re.Match[str]) -> str:
    text = match.group(0)
    cases = any(c.isupper() for c in text) and any(c.islower() for c in text)
    random = cases and (len(text) >= 40 or any(c.isdigit() for c in text))
    return MASK if random else text


class Redactor:
    """Masks credentials in text: known secrets exactly, the rest by their shape."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted(
            {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH}, key=len
        )[::-1]

    def __call__(self, text: str) -> str:
        """`text` with every credential replaced by [redacted]."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        # Each pattern only where its mark is (most lines have none): cheaper per line.
        if "eyJ" in text:
            text = JWT.sub(MASK, text)
        lowered = text.lower()
        if "bearer" in lowered or "basic" in lowered:
            text = BEARER.sub(rf"\1 {MASK}", text)
        if "=" in text:
            text = SECRET_PAIR.sub(rf"\1={MASK}", text)
        if ":" in text:
            text = SECRET_ITEM.sub(rf"\1\2\1\3\4{MASK}\4", text)
        return LONG_TOKEN.sub(_mask_random, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message and traceback through a Redactor before any output."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place (the record is then the same for every handler); keep the record."""
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class RequestContextFilter(logging.Filter):
    """Adds the current request's id, route and subject to records written during it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Set request_id, route and sub unless the record has them; keep the record."""
        info = current_request()
        if info is not None:
            for name, value in (("request_id", info.id), ("route", info.route), ("sub", info.sub)):
                if value and getattr(record, name, None) is None:
                    setattr(record, name, value)
        return True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, pid, the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """`time LEVEL [pid] logger request_id=…: message (route=… sub=…)` for people."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as readable text (the traceback, if any, on the following lines)."""
        request_id = getattr(record, "request_id", None)
        head = f"{_time(record)} {record.levelname} [{record.process}] {record.name}"
        if request_id:
            head += f" request_id={request_id}"
        details = [
            f"{name}={value}"
            for name in ("route", "sub")
            if (value := getattr(record, name, None)) is not None
        ]
        text = f"{head}: {record.getMessage()}" + (f" ({' '.join(details)})" if details else "")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text += "\n" + record.exc_text
        return text


class StderrHandler(logging.Handler):
    """Writes each line to whatever sys.stderr is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        """Format `record` and write it as one line."""
        try:
            line = self.format(record)
            stream = sys.stderr
            stream.write(line + "\n")
            stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def make_handler(log_format: Literal["text", "json"], redact: Redactor) -> logging.Handler:
    """The stderr handler: request fields added, credentials masked, then formatted."""
    handler = StderrHandler()
    handler.addFilter(RequestContextFilter())
    handler.addFilter(RedactingFilter(redact))
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.set_name(HANDLER_NAME)
    return handler


def configured_secrets(settings: Settings) -> list[str]:
    """The secret values the settings hold, masked wherever they would appear."""
    secrets = [settings.logto_app_secret]
    for value in (settings.SECRET_KEY, settings.METRICS_TOKEN):
        if value is not None:
            secrets.append(value.get_secret_value())
    return secrets


def configure(settings: Settings) -> None:
    """Send every log line through one redacting handler on the root logger (idempotent)."""
    install(make_handler(settings.log_format, Redactor(configured_secrets(settings))))


def install(handler: logging.Handler) -> None:
    """Make `handler` the root logger's only handler of ours; the app and hypercorn at INFO."""
    root = logging.getLogger()
    for old in [old for old in root.handlers if old.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    for name in INFO_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    logging.captureWarnings(True)  # warnings too, formatted and redacted, not raw on stderr
    # Quart adds its own stderr handler to app.logger unless a handler exists: it would
    # write each line a second time, unformatted and unredacted.
    logging.getLogger("app").removeHandler(default_handler)


def is_configured() -> bool:
    """True once configure() has run in this process."""
    return any(handler.get_name() == HANDLER_NAME for handler in logging.getLogger().handlers)


class HypercornLogger(BaseHypercornLogger):
    """Hypercorn's error log through the app's handler; no access log of its own.

    The app writes the request lines itself (with route, request id and user; see
    app.observability.requests), so hypercorn's access log would only repeat them.
    """

    def __init__(self, config: Config) -> None:
        # Not super().__init__(): it gives hypercorn's loggers handlers of their own.
        self.access_log_format = config.access_log_format
        self.access_logger = None
        self.error_logger = logging.getLogger("hypercorn.error")
        self.error_logger.handlers.clear()
        self.error_logger.propagate = True
        if is_configured():  # by create_app, with the settings the app runs with
            return
        try:
            configure(process_settings())
        except SettingsError:
            install(make_handler("text", Redactor()))
