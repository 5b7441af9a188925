"""Server-side sessions in Redis: quart-session's Redis interface, hardened.

Each session is two keys: `session:{<id>}` holds the data, `session:{<id>}:seen` the time
of the last request (the hash tag keeps both in one Cluster slot). Reading a session is one
MGET. Marking it as seen (at most once a minute) rewrites only the small key and the TTLs,
never the data, so it cannot undo a concurrent token refresh written by another worker.
Signed-in sessions are also listed by user and by Logto session (see index.py), in the same
pipelines as these writes.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from quart import Quart, Response, session
from quart.wrappers import BaseRequestWebsocket
from quart_session.sessions import RedisSession
from quart_session.sessions import RedisSessionInterface as BaseRedisSessionInterface
from redis.exceptions import RedisError

from app.config import Settings
from app.errors import redis_unavailable
from app.observability.metrics import redis_errors
from app.sessions import index
from app.sessions.redis import RedisClient, create_redis, uses_cluster
from app.web.errors import replace_with_error

KEY_PREFIX = "session:"
CREATED = "_created"
BOOKKEEPING = frozenset({CREATED, "_permanent"})  # "_permanent" is Quart's own flag
TOUCH_INTERVAL = 60  # seconds between "seen" writes of one session
# Routes that never need a session, so they work (and cost nothing) while Redis is away:
# probes, static files, the bearer-token API, server-to-server calls.
SESSIONLESS_PATHS = ("/static/", "/healthz", "/readyz", "/api/", "/backchannel-logout", "/metrics")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # what _generate_sid makes, nothing else

UNAVAILABLE = "_store_unavailable"
STORED = "_loaded_from_store"
OWNER = "_owner_when_loaded"
REGENERATE = "_regenerate_id"
TOUCH_DUE = "_touch_due"


class CompactJson:
    """Plain compact JSON: session values are strings, numbers and dicts, so the tagged
    serializer's per-value scan (and its extra bytes) buys nothing here."""

    def dumps(self, value: dict[str, Any]) -> str:
        """Serialize the session data."""
        return json.dumps(value, separators=(",", ":"))

    def loads(self, value: str) -> Any:
        """Deserialize stored session data."""
        return json.loads(value)


class RedisSessionInterface(BaseRedisSessionInterface):  # type: ignore[misc]
    """Sessions with 256-bit ids, idle and absolute timeouts, id regeneration, outage pages."""

    serializer = CompactJson()

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            redis=None,
            key_prefix=KEY_PREFIX,
            use_signer=False,  # ids are 256 random bits; quart-session's signer is broken
            permanent=True,
            SESSION_REVERSE_PROXY=False,
            SESSION_PROTECTION=False,
            SESSION_STATIC_FILE=False,
        )
        self.lifetime = settings.SESSION_LIFETIME
        self.idle_timeout = settings.SESSION_IDLE_TIMEOUT

    def _generate_sid(self) -> str:
        # 256 bits from `secrets`; quart-session's uuid4 has only 122.
        return secrets.token_urlsafe(32)

    def keys(self, sid: str) -> tuple[str, str]:
        """The data key and the last-seen key of session `sid`."""
        return session_keys(sid)

    def fresh(self) -> RedisSession:
        """A new empty session with a new id (saved only once something is stored)."""
        return RedisSession(sid=self._generate_sid(), permanent=True)

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> RedisSession | None:
        """Load the session of the cookie's id; a new one if unknown, corrupt or expired."""
        if request.path.startswith(SESSIONLESS_PATHS):
            return None  # Quart's null session: never read or written
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if not SESSION_ID.fullmatch(sid):
            return self.fresh()
        try:
            blob, seen = await self._mget(self.keys(sid))
        except RedisError as error:
            redis_errors.labels("open_session").inc()
            app.logger.warning("Redis unavailable while opening a session: %s", error)
            unavailable = self.fresh()
            setattr(unavailable, UNAVAILABLE, True)
            return unavailable
        data = self._decode(app, blob)
        now = time.time()
        if data is None or self._expired(data, _number(seen), now):
            if blob is not None:
                await self.backend.delete(*self.keys(sid))
            return self.fresh()
        opened = RedisSession(data, sid=sid, permanent=True)
        setattr(opened, STORED, True)
        setattr(opened, OWNER, index.owner_of(data))
        last_seen = _number(seen) or 0.0
        setattr(opened, TOUCH_DUE, now - last_seen >= TOUCH_INTERVAL)
        return opened

    async def _mget(self, keys: tuple[str, str]) -> list[str | None]:
        # The same MGET as `self.backend.mget`, on a pooled connection directly: redis-py's
        # command wrappers (retry, observability, callbacks) cost ~10% of a signed-in page.
        # A Cluster client has a pool per node and must route by slot: its own MGET (the
        # two keys share a hash tag, so one slot, one node, one round trip).
        if uses_cluster(self.backend):
            found: list[str | None] = await self.backend.mget(keys)
            return found
        pool = self.backend.connection_pool
        conn = await pool.get_connection()
        try:
            await conn.send_command("MGET", *keys)
            values: list[str | None] = await conn.read_response()
            return values
        except BaseException:
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)

    def _decode(self, app: Quart, blob: str | None) -> dict[str, Any] | None:
        if blob is None:
            return None
        try:
            data = self.serializer.loads(blob)
        except Exception:  # stored data is untrusted: anything unreadable means a new session
            data = None
        if not isinstance(data, dict):
            app.logger.warning("Discarding a session whose stored data is not readable")
            return None
        return data

    def _expired(self, data: dict[str, Any], seen: float | None, now: float) -> bool:
        created = _number(data.get(CREATED))
        if created is None or now - created >= self.lifetime:
            return True
        return now - (seen or created) >= self.idle_timeout

    def ttl(self, session: RedisSession, now: float) -> int:
        """Seconds the session may still live: the idle timeout, capped by the absolute end."""
        created = _number(session.get(CREATED)) or now
        return max(1, int(min(self.idle_timeout, created + self.lifetime - now)))

    async def save_session(self, app: Quart, session: Any, response: Response | None) -> None:
        """Write what changed; when Redis fails now, the response becomes the 503 page.

        This runs after the error handlers, so a failure here is handled here: the browser
        gets the outage page (with Retry-After), never a 500 or a half-done redirect.
        """
        if getattr(session, UNAVAILABLE, False):
            return
        if is_empty(session) and not getattr(session, STORED, False):
            return  # a new session that holds nothing: nothing to write, no cookie to set
        try:
            await self._write(app, session, response)
        except RedisError as error:
            redis_errors.labels("save_session").inc()
            app.logger.warning("Redis unavailable while saving a session: %s", error)
            if response is not None:
                await replace_with_error(response, redis_unavailable())

    async def _write(self, app: Quart, session: Any, response: Response | None) -> None:
        """Write data and cookie, a new id, or only the last-seen time."""
        now = time.time()
        async with self.backend.pipeline(transaction=False) as pipe:
            if getattr(session, REGENERATE, False):
                self._queue_delete(pipe, session)
                session.sid = self._generate_sid()
                session.modified = True
                setattr(session, STORED, False)
            if session.modified:
                self._queue_write(pipe, session, now)
                self._set_cookie(app, session, response, now)
            elif getattr(session, TOUCH_DUE, False):
                data_key, seen_key = self.keys(session.sid)
                ttl = self.ttl(session, now)
                pipe.set(seen_key, now, ex=ttl).expire(data_key, ttl)
                if owner := index.owner_of(session):
                    index.queue_touch(pipe, owner, session.sid, now + ttl)
            if len(pipe):
                await pipe.execute()

    def _queue_delete(self, pipe: Any, session: RedisSession) -> None:
        pipe.delete(*self.keys(session.sid))
        if owner := getattr(session, OWNER, None):
            index.queue_remove(pipe, owner, session.sid)

    def _queue_write(self, pipe: Any, session: RedisSession, now: float) -> None:
        data_key, seen_key = self.keys(session.sid)
        if is_empty(session):
            self._queue_delete(pipe, session)
            return
        session.setdefault(CREATED, now)
        ttl = self.ttl(session, now)
        # A session read from Redis is only updated while it is still there: a sign-out (or
        # expiry) by another request in the meantime must not be undone by this write.
        only_if_present = getattr(session, STORED, False)
        data = self.serializer.dumps(dict(session))
        pipe.set(data_key, data, ex=ttl, xx=only_if_present)
        pipe.set(seen_key, now, ex=ttl)  # harmless if orphaned: it only expires
        if owner := index.owner_of(session):
            # Listed even if the SET XX above found the session gone: readers skip such ids.
            index.queue_add(pipe, owner, session.sid, now + ttl, self.lifetime)

    def _set_cookie(
        self, app: Quart, session: RedisSession, response: Response | None, now: float
    ) -> None:
        if response is None:
            return
        name, path = self.get_cookie_name(app), self.get_cookie_path(app)
        if is_empty(session):
            response.delete_cookie(name, path=path, secure=self.get_cookie_secure(app))
            return
        created = _number(session.get(CREATED)) or now
        response.set_cookie(
            name,
            session.sid,
            expires=created + self.lifetime,
            path=path,
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )

    async def persist(self, session: RedisSession) -> None:
        """Write the session now (inside a lock), so the end of the request need not."""
        async with self.backend.pipeline(transaction=False) as pipe:
            self._queue_write(pipe, session, time.time())
            await pipe.execute()
        session.modified = False

    async def load(self, app: Quart, sid: str) -> dict[str, Any] | None:
        """The stored data of session `sid`, or None."""
        return self._decode(app, await self.backend.get(self.keys(sid)[0]))

    async def load_many(self, app: Quart, sids: list[str]) -> list[StoredSession]:
        """The stored sessions among `sids` (one pipeline of single-key reads)."""
        async with self.backend.pipeline(transaction=False) as pipe:
            for sid in sids:
                data_key, seen_key = self.keys(sid)
                pipe.get(data_key).get(seen_key)  # a Cluster pipeline refuses MGET
            answers = await pipe.execute()
        found = []
        pairs = zip(answers[::2], answers[1::2], strict=True)
        for sid, (blob, seen) in zip(sids, pairs, strict=True):
            if (data := self._decode(app, blob)) is not None:
                found.append(StoredSession(sid, data, _number(seen)))
        return found

    async def delete_many(self, sessions: list[StoredSession]) -> None:
        """Delete `sessions` and their index entries (one pipeline)."""
        async with self.backend.pipeline(transaction=False) as pipe:
            for stored in sessions:
                pipe.delete(*self.keys(stored.sid))
                if owner := index.owner_of(stored.data):
                    index.queue_remove(pipe, owner, stored.sid)
            await pipe.execute()


def session_keys(sid: str) -> tuple[str, str]:
    """The data key and the last-seen key of session `sid` (one Cluster slot)."""
    return f"{KEY_PREFIX}{{{sid}}}", f"{KEY_PREFIX}{{{sid}}}:seen"


@dataclass(frozen=True)
class StoredSession:
    """A session as stored: its id, its data and when it was last seen."""

    sid: str
    data: dict[str, Any]
    seen: float | None

    @property
    def created(self) -> float | None:
        """When the session began (sign-in)."""
        return _number(self.data.get(CREATED))


def is_empty(session: RedisSession) -> bool:
    """True when the session holds nothing but its own bookkeeping."""
    return all(key in BOOKKEEPING for key in session)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def configure(app: Quart, settings: Settings) -> None:
    """Set the session cookie: __Host- prefixed and Secure under https, HttpOnly, Lax."""
    app.config.update(
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
    interface = RedisSessionInterface(settings)
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
        if getattr(session, UNAVAILABLE, False):
            raise redis_unavailable()


def redis_client(app: Quart) -> RedisClient:
    """The app's Redis client (available while serving): standalone, Sentinel or Cluster."""
    client: RedisClient = app.extensions["redis"]
    return client


def session_interface(app: Quart) -> RedisSessionInterface:
    """The app's session interface."""
    interface = app.session_interface
    assert isinstance(interface, RedisSessionInterface)
    return interface


def current_session_id() -> str:
    """The server-side id of the current request's session."""
    sid: str = session.sid  # type: ignore[attr-defined]
    return sid


def regenerate_session_id() -> None:
    """Give the current session a new id when it is saved, deleting the old one (fixation)."""
    setattr(session, REGENERATE, True)
