"""Server-side sessions in Redis: quart-session wired to one pooled Redis client."""

from __future__ import annotations

import secrets
from typing import Any

from quart import Quart, request, session
from quart_session.sessions import RedisSession
from quart_session.sessions import RedisSessionInterface as BaseRedisSessionInterface
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from app.config import Settings
from app.errors import redis_unavailable

UNAVAILABLE_MARK = "_session_store_unavailable"


class RedisSessionInterface(BaseRedisSessionInterface):  # type: ignore[misc]
    """quart-session's Redis interface with stronger ids and outage handling."""

    def _generate_sid(self) -> str:
        # 256 bits from `secrets`; quart-session's uuid4 has only 122.
        return secrets.token_urlsafe(32)

    async def set(self, key: str, value: str, expiry: int | None = None, app: Any = None) -> None:
        """Store the serialized session with a TTL (SET EX; quart-session uses deprecated SETEX)."""
        ttl = expiry or int(app.permanent_session_lifetime.total_seconds())
        await self.backend.set(key, value, ex=ttl)

    async def open_session(self, app: Quart, request: Any) -> RedisSession:
        """Load the session; mark it unavailable instead of raising when Redis is down."""
        try:
            return await super().open_session(app, request)
        except RedisError as error:
            app.logger.warning("Redis unavailable while opening a session: %s", error)
            unavailable = RedisSession(sid=self._generate_sid())
            setattr(unavailable, UNAVAILABLE_MARK, True)
            return unavailable

    async def save_session(self, app: Quart, session: Any, response: Any) -> None:
        """Save the session unless it could not be loaded in the first place."""
        if getattr(session, UNAVAILABLE_MARK, False):
            return
        await super().save_session(app, session, response)


def create_redis(settings: Settings) -> Redis:
    """A pooled Redis client whose every call fails within REDIS_TIMEOUT."""
    return Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=settings.REDIS_TIMEOUT,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def configure(app: Quart, settings: Settings) -> None:
    """Set the session config: Redis backend, cookie flags and lifetime."""
    app.config.update(
        SESSION_TYPE="redis",
        SESSION_KEY_PREFIX="session:",
        SESSION_PERMANENT=True,
        PERMANENT_SESSION_LIFETIME=settings.SESSION_LIFETIME,
        SESSION_COOKIE_NAME="__Host-session" if settings.uses_https else "session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.uses_https,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
    )


def init_app(app: Quart, settings: Settings) -> None:
    """Install the Redis session interface; open the client at start-up, close it at shutdown."""
    configure(app, settings)
    interface = RedisSessionInterface(
        redis=None,
        key_prefix=app.config["SESSION_KEY_PREFIX"],
        use_signer=False,  # the id is 256 random bits; quart-session's signer is broken
        permanent=True,
        SESSION_REVERSE_PROXY=False,
        SESSION_PROTECTION=False,
        SESSION_STATIC_FILE=False,
    )
    app.session_interface = interface

    @app.before_serving
    async def open_redis() -> None:
        interface.backend = create_redis(settings)
        app.extensions["redis"] = interface.backend

    @app.after_serving
    async def close_redis() -> None:
        await interface.backend.aclose()

    @app.before_request
    async def refuse_without_store() -> None:
        if getattr(session, UNAVAILABLE_MARK, False) and request.blueprint != "health":
            raise redis_unavailable()


def redis_client(app: Quart) -> Redis:
    """The app's Redis client (available while serving)."""
    client: Redis = app.extensions["redis"]
    return client


def current_session_id() -> str:
    """The server-side id of the current request's session."""
    sid: str = session.sid  # type: ignore[attr-defined]
    return sid
