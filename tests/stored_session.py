"""What the app stored for a browser's session, read from Redis the way the app reads it."""

from __future__ import annotations

import json
from typing import Any

from app.sessions.redis_client import RedisClient
from app.sessions.store import session_keys


async def stored_session(redis: RedisClient, session_id: str) -> dict[str, Any]:
    """The stored data of `session_id` ({} when there is none)."""
    data = json.loads(await redis.get(session_keys(session_id)[0]) or "{}")
    assert isinstance(data, dict)
    return data


async def is_stored(redis: RedisClient, session_id: str) -> bool:
    """True while either key of `session_id` exists in Redis."""
    return bool(await redis.exists(*session_keys(session_id)))


async def stored_refresh_token(redis: RedisClient, session_id: str) -> str:
    """The refresh token the SDK stored in `session_id`."""
    return str((await stored_session(redis, session_id))["logto.refreshToken"])
