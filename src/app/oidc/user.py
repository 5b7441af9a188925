"""`current_user`: the signed-in user of the current request, read from its session."""

from __future__ import annotations

from typing import Any

from quart import session

from app.sessions.data import signed_in_claims


def _text(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


class _TextClaim:
    """A read-only attribute of `current_user`: one text claim of the signed-in user."""

    def __init__(self, claim: str, doc: str) -> None:
        self.claim = claim
        self.__doc__ = doc

    def __get__(self, user: CurrentUser | None, owner: type | None = None) -> str | None:
        return _text(signed_in_claims(session) or {}, self.claim)


class CurrentUser:
    """The user signed in to the current request's session (every field None when signed out).

    Each attribute is read from the session when asked for, so it is right at every moment
    of the request (after a sign-in or sign-out too) and costs a dictionary lookup or two.
    """

    __slots__ = ()

    @property
    def claims(self) -> dict[str, Any]:
        """The ID token's claims ({} when signed out)."""
        return signed_in_claims(session) or {}

    @property
    def is_authenticated(self) -> bool:
        """True when the session holds a signed-in user."""
        return signed_in_claims(session) is not None

    sub = _TextClaim("sub", "The user's id at Logto.")
    username = _TextClaim("username", "The username, if the user has one.")
    email = _TextClaim("email", "The email address, if the sign-in asked for it.")
    picture = _TextClaim("picture", "The URL of the user's picture.")
    sid = _TextClaim("sid", "The Logto session the user signed in through.")

    @property
    def name(self) -> str | None:
        """What to greet the user with: the name, else the username."""
        claims = self.claims
        return _text(claims, "name") or _text(claims, "username")

    def __repr__(self) -> str:
        return f"<current_user sub={self.sub!r}>" if self.is_authenticated else "<signed out>"


current_user = CurrentUser()
