"""Pending sign-in transactions, kept in the session by their OAuth `state`.

The SDK keeps a single `signInSession`, so a second tab's sign-in overwrites the first
and the first fails with "Invalid state". Moving each transaction here under its own
state lets several sign-ins of one browser complete.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from quart import session

KEY = "sign_ins"
MAX_PENDING = 5
EXPIRES_AFTER = 10 * 60  # seconds


@dataclass(frozen=True)
class Transaction:
    """One started sign-in: the SDK's serialized sign-in session and where to return."""

    sdk_session: str
    next: str
    started: float


def _pending() -> dict[str, dict[str, object]]:
    value = session.get(KEY)
    return value if isinstance(value, dict) else {}


def _parse(value: object) -> Transaction | None:
    if not isinstance(value, dict):
        return None
    try:
        transaction = Transaction(**value)
    except TypeError:
        return None
    fields_ok = isinstance(transaction.sdk_session, str) and isinstance(transaction.next, str)
    fresh = isinstance(transaction.started, int | float) and (
        time.time() - transaction.started < EXPIRES_AFTER
    )
    return transaction if fields_ok and fresh else None


def remember(state: str, sdk_session: str, next_path: str) -> None:
    """Keep a new transaction, dropping expired ones and the oldest beyond MAX_PENDING."""
    live = {key: parsed for key, value in _pending().items() if (parsed := _parse(value))}
    live[state] = Transaction(sdk_session, next_path, time.time())
    newest = sorted(live.items(), key=lambda item: item[1].started)[-MAX_PENDING:]
    session[KEY] = {key: asdict(transaction) for key, transaction in newest}


def take(state: str) -> Transaction | None:
    """Remove and return the live transaction for `state`; None if unknown or expired."""
    pending = _pending()
    if state not in pending:
        return None
    value = pending.pop(state)
    if pending:
        session[KEY] = pending
    else:
        session.pop(KEY, None)
    return _parse(value)
