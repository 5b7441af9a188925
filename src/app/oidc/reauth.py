"""Step-up: how recent the user's authentication at Logto is, and re-authentication checks.

The ID token's `auth_time` says when the user last authenticated at Logto (every sign-in
sends max_age, so Logto includes it). A sensitive action needs it within REAUTH_MAX_AGE;
otherwise the user signs in again (prompt=login, max_age=REAUTH_MAX_AGE), and the callback
must bring an ID token of the same user with a recent enough auth_time.
"""

from __future__ import annotations

import time
from typing import Any

from app.errors import AppError
from app.oidc.jwt_verifier import LEEWAY_SECONDS
from app.sessions.data import number


class ReauthenticationRefused(AppError):
    """A re-authentication that did not prove a recent sign-in of the same user (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            400,
            f"{message} You are still signed in as before; nothing was changed.",
            title="Re-authentication failed",
        )


def authentication_age(claims: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds since the user authenticated at Logto (the claims' auth_time); None if unknown."""
    auth_time = number(claims.get("auth_time"))
    if auth_time is None:
        return None
    return (time.time() if now is None else now) - auth_time


def is_recent(claims: dict[str, Any], max_age: int, now: float | None = None) -> bool:
    """True when the claims' auth_time is at most `max_age` seconds ago (and not in the
    future beyond the clock leeway)."""
    age = authentication_age(claims, now)
    return age is not None and -LEEWAY_SECONDS <= age <= max_age


def check_reauthentication(
    claims: dict[str, Any], expected_sub: str, current_sub: str | None, max_age: int
) -> None:
    """Raise ReauthenticationRefused unless `claims` (the new ID token's) are of
    `expected_sub`, the session still is (or no longer holds anyone), and auth_time is recent."""
    if current_sub is not None and current_sub != expected_sub:
        raise ReauthenticationRefused("This browser is now signed in as another user.")
    if claims.get("sub") != expected_sub:
        raise ReauthenticationRefused(
            "You signed in as another user. Please confirm with the account you are signed in with."
        )
    age = authentication_age(claims)
    if age is None:
        raise ReauthenticationRefused(
            "Logto did not say when you signed in (the ID token has no auth_time)."
        )
    if not -LEEWAY_SECONDS <= age <= max_age:
        raise ReauthenticationRefused(
            f"Logto reported a sign-in from {int(age)} seconds ago, not within the last "
            f"{max_age} seconds."
        )
