"""The Logto SDK's Storage, kept in the request's server-side (Redis) session."""

from logto import PersistKey, Storage
from quart import session

from app.sessions.data import sdk_value, set_sdk_value


class SessionStorage(Storage):  # type: ignore[misc]
    """Reads and writes the SDK's values in `quart.session` of the current request.

    One instance serves the whole app: `session` is the per-request session, so
    every request sees only its own user's tokens.
    """

    def get(self, key: PersistKey) -> str | None:
        """Return the stored string for `key`, or None."""
        return sdk_value(session, key)

    def set(self, key: PersistKey, value: str | None) -> None:
        """Store `value` under `key`; None removes it."""
        set_sdk_value(session, key, value)

    def delete(self, key: PersistKey) -> None:
        """Remove `key` if present."""
        set_sdk_value(session, key, None)
