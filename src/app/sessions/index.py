"""Which app sessions belong to which user (`sub`) and to which Logto session (`sid`).

Two sorted sets per signed-in session, members the app session ids, each scored with the
session's expiry time: `sessions:user:{<sub>}` and `sessions:logto:{<sid>}`. They change in
the same pipeline as the session itself, so they cost no round trip of their own: added when
the session is written, re-scored when its TTL is extended, removed when it is deleted.
Entries whose time has passed are pruned on every write and read, and each set expires with
the longest session it can hold, so nothing outlives its sessions or grows without bound.
Every command touches one key, so the index works unchanged on Redis Cluster.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.sessions.data import claims_of
from app.sessions.redis_client import RedisClient

USER_PREFIX = "sessions:user:"
LOGTO_PREFIX = "sessions:logto:"


@dataclass(frozen=True)
class Owner:
    """Who a signed-in session belongs to: the user and, when known, the Logto session."""

    sub: str
    logto_sid: str | None = None

    def index_keys(self) -> list[str]:
        """The index keys this session is listed under."""
        keys = [user_key(self.sub)]
        if self.logto_sid:
            keys.append(logto_key(self.logto_sid))
        return keys


def user_key(sub: str) -> str:
    """The index of user `sub`'s sessions (its hash tag keeps it to one Cluster slot)."""
    return f"{USER_PREFIX}{{{sub}}}"


def logto_key(logto_sid: str) -> str:
    """The index of the app sessions signed in through Logto session `logto_sid`."""
    return f"{LOGTO_PREFIX}{{{logto_sid}}}"


def owner_of(data: Mapping[str, Any]) -> Owner | None:
    """The owner recorded in session data (its ID token claims), or None when signed out."""
    claims = claims_of(data)
    if claims is None:
        return None
    logto_sid = claims.get("sid")
    return Owner(claims["sub"], logto_sid if isinstance(logto_sid, str) else None)


def queue_add(pipe: Any, owner: Owner, sid: str, expires_at: float, lifetime: int) -> None:
    """List session `sid` until `expires_at`; prune what has passed; bound the set's life."""
    for key in owner.index_keys():
        pipe.zadd(key, {sid: expires_at})
        pipe.zremrangebyscore(key, "-inf", time.time())
        pipe.expire(key, lifetime)


def queue_touch(pipe: Any, owner: Owner, sid: str, expires_at: float) -> None:
    """Move session `sid`'s expiry (only if it is still listed)."""
    for key in owner.index_keys():
        pipe.zadd(key, {sid: expires_at}, xx=True)


def queue_remove(pipe: Any, owner: Owner, sid: str) -> None:
    """Stop listing session `sid`."""
    for key in owner.index_keys():
        pipe.zrem(key, sid)


async def live_members(redis: RedisClient, key: str) -> list[str]:
    """The session ids an index lists whose time has not passed."""
    members = await redis.zrangebyscore(key, time.time(), "+inf")
    return [str(member) for member in members]


def handle_of(sid: str, secret: str) -> str:
    """A public name for session `sid` that neither reveals its id nor lets one derive it."""
    digest = hmac.new(secret.encode(), f"session-handle:{sid}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]
