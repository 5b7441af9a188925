"""What the app stored for a browser's session, read through the app's own session store.

The store alone knows the key layout and the field names; tests read a session as the app
does (`SessionStore.load_many`, `StoredSession`, the functions of app.sessions.data).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.config import Settings
from app.sessions.store import SessionStore, StoredSession, session_keys


@asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[SessionStore]:
    """The app's session store on `settings.REDIS_URL` (any topology), open."""
    store = SessionStore(settings)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def stored(store: SessionStore, session_id: str) -> StoredSession:
    """The stored session `session_id`; the test fails when there is none."""
    found = await store.load_many([session_id])
    assert found, "no session is stored under the browser's cookie"
    return found[0]


async def stored_refresh_token(store: SessionStore, session_id: str) -> str:
    """The refresh token the SDK stored in `session_id`."""
    token = (await stored(store, session_id)).refresh_token
    assert token, "the session holds no refresh token"
    return token


async def is_stored(store: SessionStore, session_id: str) -> bool:
    """True while anything of `session_id` is left in Redis (its data or last-seen key)."""
    return bool(await store.redis.exists(*session_keys(session_id)))
