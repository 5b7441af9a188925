"""The Logto SDK's Storage, kept in the request's server-side (Redis) session."""

from logto import LogtoClient, PersistKey, Storage
from quart import session

KEY_PREFIX = "logto."


class SessionStorage(Storage):  # type: ignore[misc]
    """Reads and writes the SDK's values in `quart.session` of the current request.

    One instance serves the whole app: `session` is the per-request session, so
    every request sees only its own user's tokens.
    """

    def get(self, key: PersistKey) -> str | None:
        """Return the stored string for `key`, or None."""
        value = session.get(KEY_PREFIX + key)
        return value if isinstance(value, str) else None

    def set(self, key: PersistKey, value: str | None) -> None:
        """Store `value` under `key`; None removes it."""
        if value is None:
            self.delete(key)
        else:
            session[KEY_PREFIX + key] = value

    def delete(self, key: PersistKey) -> None:
        """Remove `key` if present."""
        session.pop(KEY_PREFIX + key, None)


USER_KEY = "user"


def remember_user(client: LogtoClient) -> None:
    """Keep the (verified) ID token's claims, so pages need not decode the JWT per request."""
    session[USER_KEY] = client.getIdTokenClaims().model_dump(exclude_none=True)
