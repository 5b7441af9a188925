"""What the app stored for a browser's session, read from Redis the way the app reads it."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from app.sessions.interface import KEY_PREFIX


async def stored_session(redis: Redis, session_id: str) -> dict[str, Any]:
    """The stored data of `session_id` ({} when there is none)."""
    data = json.loads(await redis.get(f"{KEY_PREFIX}{session_id}") or "{}")
    assert isinstance(data, dict)
    return data


async def stored_refresh_token(redis: Redis, session_id: str) -> str:
    """The refresh token the SDK stored in `session_id`."""
    return str((await stored_session(redis, session_id))["logto.refreshToken"])
