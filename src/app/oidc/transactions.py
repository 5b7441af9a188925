"""Pending sign-ins, kept in the browser in one encrypted cookie until their callback.

Nothing a visitor starts is stored server-side before the sign-in completes, so a flood of
sign-in starts costs Redis nothing and /sign-in works while Redis is away. The cookie is
encrypted and authenticated (Fernet, keyed from SECRET_KEY): the PKCE verifier and the nonce
stay secret and cannot be forged. The SDK keeps a single `signInSession`; here each
transaction is kept under its own `state`, so several tabs of one browser can sign in at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from quart import Response, g, request

from app.config import Settings

MAX_PENDING = 5
EXPIRES_AFTER = 10 * 60  # seconds
_CHANGED = "sign_ins_changed"
_PENDING = "sign_ins"


@dataclass(frozen=True)
class Transaction:
    """One started sign-in: the SDK's serialized sign-in session, the nonce, where to return.

    A re-authentication (step-up) also names the user it is for (`expected_sub`) and how
    recent the authentication it brings back must be (`max_age`, seconds).
    """

    sdk_session: str
    next: str
    nonce: str
    started: float
    expected_sub: str | None = None
    max_age: int | None = None

    @property
    def reauthenticates(self) -> bool:
        """True for a re-authentication of a signed-in user."""
        return self.expected_sub is not None


class TransactionCookie:
    """Reads and writes the encrypted cookie that carries a browser's pending sign-ins."""

    def __init__(self, settings: Settings) -> None:
        key = hashlib.sha256(b"sign-in-transactions:" + settings.secret_key.encode()).digest()
        self.fernet = Fernet(base64.urlsafe_b64encode(key))
        self.secure = settings.uses_https
        self.name = settings.cookie_name("sign-in")

    def pending(self) -> dict[str, Transaction]:
        """The current request's pending sign-ins (read from its cookie once)."""
        if _PENDING not in g:
            setattr(g, _PENDING, self.read(request.cookies.get(self.name)))
        pending: dict[str, Transaction] = getattr(g, _PENDING)
        return pending

    def remember(
        self,
        state: str,
        sdk_session: str,
        next_path: str,
        nonce: str,
        *,
        expected_sub: str | None = None,
        max_age: int | None = None,
    ) -> None:
        """Keep a new transaction, dropping the oldest beyond MAX_PENDING."""
        pending = self.pending()
        pending[state] = Transaction(
            sdk_session, next_path, nonce, time.time(), expected_sub, max_age
        )
        newest = sorted(pending.items(), key=lambda item: item[1].started)[-MAX_PENDING:]
        setattr(g, _PENDING, dict(newest))
        setattr(g, _CHANGED, True)

    def take(self, state: str) -> Transaction | None:
        """Remove and return the live transaction for `state`; None if unknown or expired."""
        transaction = self.pending().pop(state, None)
        if transaction is not None:
            setattr(g, _CHANGED, True)
        return transaction

    async def write_back(self, response: Response) -> Response:
        """After a request: write the cookie when its transactions changed."""
        if g.get(_CHANGED):
            self.write(response, self.pending())
        return response

    def read(self, value: str | None) -> dict[str, Transaction]:
        """The live transactions in a cookie value; nothing for a missing or tampered one."""
        if not value:
            return {}
        try:
            entries = json.loads(self.fernet.decrypt(value.encode(), ttl=EXPIRES_AFTER))
        except (InvalidToken, ValueError):
            return {}
        if not isinstance(entries, dict):
            return {}
        return {state: parsed for state, raw in entries.items() if (parsed := _parse(raw))}

    def write(self, response: Response, pending: dict[str, Transaction]) -> None:
        """Set the cookie to `pending` (or delete it when nothing is pending)."""
        if not pending:
            response.delete_cookie(self.name, path="/", secure=self.secure, httponly=True)
            return
        plain = json.dumps({state: asdict(item) for state, item in pending.items()})
        response.set_cookie(
            self.name,
            self.fernet.encrypt(plain.encode()).decode(),
            max_age=EXPIRES_AFTER,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Lax",  # sent on the provider's top-level redirect back to /callback
        )


def _parse(value: Any) -> Transaction | None:
    if not isinstance(value, dict):
        return None
    try:
        transaction = Transaction(**value)
    except TypeError:
        return None
    strings = all(
        isinstance(field, str)
        for field in (transaction.sdk_session, transaction.next, transaction.nonce)
    )
    fresh = isinstance(transaction.started, int | float) and (
        0 <= time.time() - transaction.started < EXPIRES_AFTER
    )
    reauthentication = (transaction.expected_sub is None and transaction.max_age is None) or (
        isinstance(transaction.expected_sub, str)
        and isinstance(transaction.max_age, int)
        and not isinstance(transaction.max_age, bool)
    )
    return transaction if strings and fresh and reauthentication else None
