"""`current_user`: the signed-in user of the current request, read from its session."""

from __future__ import annotations

from typing import Any

from quart import session

from app.sessions.data import signed_in_claims


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

    @property
    def sub(self) -> str | None:
        """The user's id at Logto."""
        return self._text("sub")

    @property
    def name(self) -> str | None:
        """What to greet the user with: the name, else the username."""
        return self._text("name") or self._text("username")

    @property
    def username(self) -> str | None:
        """The username, if the user has one."""
        return self._text("username")

    @property
    def email(self) -> str | None:
        """The email address, if the sign-in asked for it."""
        return self._text("email")

    @property
    def picture(self) -> str | None:
        """The URL of the user's picture."""
        return self._text("picture")

    @property
    def sid(self) -> str | None:
        """The Logto session the user signed in through."""
        return self._text("sid")

    def _text(self, name: str) -> str | None:
        value = self.claims.get(name)
        return value if isinstance(value, str) and value else None

    def __repr__(self) -> str:
        return f"<current_user sub={self.sub!r}>" if self.is_authenticated else "<signed out>"


current_user = CurrentUser()
