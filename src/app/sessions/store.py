"""The one session store: server-side sessions in Redis, and everything else kept there.

Each session is two keys: `session:{<id>}` holds the data, `session:{<id>}:seen` the time
of the last request (the hash tag keeps both in one Cluster slot). Reading a session is one
MGET. Marking it as seen (at most once a minute) rewrites only the small key and the TTLs,
never the data, so it cannot undo a concurrent token refresh written by another worker.
Signed-in sessions are also listed by user and by Logto session (see index.py), in the same
pipelines as these writes. The refresh locks and the logout tokens already used are kept
here too: this module alone knows the key layout.

Of quart-session, only its `RedisSession` is kept (a server-side session: a dict with an id
and change tracking); its interface's URL handling, signer and "protection" options are
all off here, so the store implements Quart's own SessionInterface directly.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from quart import Quart, Response
from quart.sessions import SessionInterface
from quart.wrappers import BaseRequestWebsocket
from quart_session.sessions import RedisSession
from redis.asyncio.lock import Lock
from redis.exceptions import RedisError
from werkzeug.wrappers import Response as WerkzeugResponse

from app.config import Settings
from app.observability.metrics import redis_errors
from app.redis_urls import RedisTarget, parse_redis_url
from app.sessions import index
from app.sessions.cache import SessionCache
from app.sessions.data import (
    CREATED,
    created_of,
    is_empty,
    number,
    set_claims,
    set_sdk_value,
    user_agent_of,
)
from app.sessions.data import sdk_value as stored_sdk_value
from app.sessions.invalidation import Address, InvalidationChannel, standalone_address
from app.sessions.redis_client import RedisClient, create_redis, uses_cluster

KEY_PREFIX = "session:"
LOCK_PREFIX = "lock:refresh:"
JTI_PREFIX = "backchannel-jti:"
TOUCH_INTERVAL = 60  # seconds between "seen" writes of one session
REPLICA_WAIT_MAX = 0.5  # seconds an ended session waits for a replica's acknowledgement
# Routes that never need a session, so they work (and cost nothing) while Redis is away:
# probes, static files, the bearer-token API, server-to-server calls.
SESSIONLESS_PATHS = ("/static/", "/healthz", "/readyz", "/api/", "/backchannel-logout", "/metrics")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # what new_session_id makes, nothing else

WriteFailed = Callable[[Response], Awaitable[None]]
logger = logging.getLogger("app.sessions")


@dataclass(slots=True)
class RequestState:
    """What the store knows of a session during one request."""

    stored: bool = False  # read from Redis (a write then only updates it while it exists)
    unavailable: bool = False  # Redis failed while reading it: the request gets the 503 page
    owner: index.Owner | None = None  # whose it was when read (for the index on delete)
    regenerate: bool = False  # give it a new id when saved (sign-in: no fixation)
    touch_due: bool = False  # the last-seen time is old enough to be written again


class ServerSession(RedisSession):  # type: ignore[misc]
    """A session of this store: its data, its id and the store's state for this request."""

    def __init__(
        self,
        data: dict[str, Any] | None = None,
        *,
        sid: str,
        state: RequestState | None = None,
    ) -> None:
        super().__init__(data, sid=sid, permanent=True)
        self.state = state or RequestState()


@dataclass(frozen=True)
class StoredSession:
    """A session as stored: its id, its data and when it was last seen."""

    sid: str
    data: dict[str, Any] = field(repr=False)
    seen: float | None

    @property
    def created(self) -> float | None:
        """When the session began (sign-in)."""
        return created_of(self.data)

    @property
    def owner(self) -> index.Owner | None:
        """Whose session it is (None when signed out)."""
        return index.owner_of(self.data)

    @property
    def user_agent(self) -> str:
        """The browser's User-Agent at sign-in."""
        return user_agent_of(self.data)

    @property
    def refresh_token(self) -> str | None:
        """The refresh token the SDK stored, if any."""
        return stored_sdk_value(self.data, "refreshToken")

    def belongs_to(self, sub: str) -> bool:
        """True when it is user `sub`'s session."""
        owner = self.owner
        return owner is not None and owner.sub == sub


def state_of(session: object) -> RequestState:
    """The store's state of `session` (quart.session works too: its proxy passes isinstance)."""
    if not isinstance(session, ServerSession):
        raise RuntimeError("Not a session of this store (is the request session-less?)")
    return session.state


def session_id_of(session: object) -> str:
    """The server-side id of `session`."""
    if not isinstance(session, ServerSession):
        raise RuntimeError("Not a session of this store (is the request session-less?)")
    sid: str = session.sid
    return sid


class CompactJson:
    """Plain compact JSON: session values are strings, numbers and dicts, so the tagged
    serializer's per-value scan (and its extra bytes) buys nothing here."""

    def dumps(self, value: dict[str, Any]) -> str:
        """Serialize the session data."""
        return json.dumps(value, separators=(",", ":"))

    def loads(self, value: str) -> Any:
        """Deserialize stored session data."""
        return json.loads(value)


def session_id_of_key(key: str) -> str | None:
    """The session id in a session key (`session:{<id>}` or `session:{<id>}:seen`)."""
    if not key.startswith(KEY_PREFIX + "{"):
        return None
    sid, closed, _ = key[len(KEY_PREFIX) + 1 :].partition("}")
    return sid if closed else None


def session_keys(sid: str) -> tuple[str, str]:
    """The data key and the last-seen key of session `sid` (one Cluster slot)."""
    return f"{KEY_PREFIX}{{{sid}}}", f"{KEY_PREFIX}{{{sid}}}:seen"


def new_session_id() -> str:
    """A new session id: 256 bits from `secrets` (quart-session's uuid4 has only 122)."""
    return secrets.token_urlsafe(32)


class SessionStore(SessionInterface):
    """Sessions with 256-bit ids, idle and absolute timeouts, id regeneration, outage pages."""

    serializer = CompactJson()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lifetime = settings.SESSION_LIFETIME
        self.idle_timeout = settings.SESSION_IDLE_TIMEOUT
        self._redis: RedisClient | None = None
        self._target = parse_redis_url(settings.redis_url)
        self.replicated = self._target.topology != "standalone"
        cached = settings.SESSION_CACHE_SIZE > 0 and self._target.topology != "cluster"
        self.cache = SessionCache(settings.SESSION_CACHE_SIZE) if cached else None
        self._channel: InvalidationChannel | None = None
        # Below REDIS_TIMEOUT, so the WAIT itself never times the connection out.
        self.replica_wait_ms = int(min(settings.REDIS_TIMEOUT / 2, REPLICA_WAIT_MAX) * 1000)
        # Set by the web layer: turns a response into the outage page when its write fails.
        self.write_failed: WriteFailed | None = None

    # Lifecycle and the client

    async def open(self) -> None:
        """Create the Redis client and start the cache's invalidation channel (before
        serving, inside the worker's event loop)."""
        self._redis = create_redis(self.settings)
        if self.cache is not None:
            self._channel = InvalidationChannel(
                self.cache, self._channel_address, KEY_PREFIX, self.settings.REDIS_TIMEOUT
            )
            self._channel.key_to_sid = session_id_of_key
            self._channel.start()

    async def _channel_address(self) -> Address:
        """Where the invalidation channel connects: the server, or Sentinel's current primary."""
        target: RedisTarget = self._target
        if target.topology != "sentinel":
            return standalone_address(target)
        client: Any = self.redis
        pool = client.connection_pool
        host, port = await pool.sentinel_manager.discover_master(target.primary)
        options = target.options
        return Address(
            host, int(port), None, None, options.get("username"), options.get("password")
        )

    async def close(self) -> None:
        """Stop the invalidation channel and close the Redis client (after serving)."""
        if self._channel is not None:
            await self._channel.stop()
            self._channel = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    @property
    def redis(self) -> RedisClient:
        """The open Redis client: standalone, Sentinel or Cluster."""
        if self._redis is None:
            raise RuntimeError("The session store opens when the app starts serving.")
        return self._redis

    @property
    def is_open(self) -> bool:
        """True while serving."""
        return self._redis is not None

    async def ping(self) -> None:
        """Raise RedisError unless Redis answers."""
        await self.redis.ping()

    def configure_cookie(self, app: Quart) -> None:
        """The session cookie: __Host- prefixed and Secure under https, HttpOnly, Lax."""
        app.config.update(
            SESSION_COOKIE_NAME=self.settings.cookie_name("session"),
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=self.settings.uses_https,
            SESSION_COOKIE_PATH="/",
            SESSION_COOKIE_DOMAIN=None,
        )

    # Quart's session interface

    def fresh(self) -> ServerSession:
        """A new empty session with a new id (saved only once something is stored)."""
        return ServerSession(sid=new_session_id())

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> ServerSession | None:
        """Load the session of the cookie's id; a new one if unknown, corrupt or expired."""
        if request.path.startswith(SESSIONLESS_PATHS):
            return None  # Quart's null session: never read or written
        sid = request.cookies.get(self.get_cookie_name(app), "")
        if not SESSION_ID.fullmatch(sid):
            return self.fresh()
        try:
            blob, seen = await self._read(sid)
        except RedisError as error:
            redis_errors.labels("open_session").inc()
            app.logger.warning("Redis unavailable while opening a session: %s", error)
            return ServerSession(sid=new_session_id(), state=RequestState(unavailable=True))
        data = self._decode(app, blob)
        now = time.time()
        if data is None or self._expired(data, number(seen), now):
            if blob is not None:
                await self.redis.delete(*session_keys(sid))
                if self.cache is not None:
                    self.cache.forget([sid])
            return self.fresh()
        state = RequestState(
            stored=True,
            owner=index.owner_of(data),
            touch_due=now - (number(seen) or 0.0) >= TOUCH_INTERVAL,
        )
        return ServerSession(data, sid=sid, state=state)

    async def _read(self, sid: str) -> tuple[str | None, str | None]:
        """Session `sid`'s data and last-seen time: from the cache when it may be used."""
        cache = self.cache
        if cache is not None and (entry := cache.get(sid)) is not None:
            return entry
        epoch = cache.epoch if cache is not None else 0
        found = await self._mget(session_keys(sid))
        blob, seen = found[0], found[1]
        if cache is not None and blob is not None:
            cache.put(sid, (blob, seen), epoch)
        return blob, seen

    async def _mget(self, keys: tuple[str, str]) -> list[str | None]:
        # The same MGET as `redis.mget`, on a pooled connection directly: redis-py's
        # command wrappers (retry, observability, callbacks) cost ~10% of a signed-in page.
        # A Cluster client has a pool per node and must route by slot: its own MGET (the
        # two keys share a hash tag, so one slot, one node, one round trip).
        redis: Any = self.redis
        if uses_cluster(redis):
            found: list[str | None] = await redis.mget(keys)
            return found
        pool = redis.connection_pool
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

    def _decode(self, app: Quart | None, blob: str | None) -> dict[str, Any] | None:
        if blob is None:
            return None
        try:
            data = self.serializer.loads(blob)
        except Exception:  # stored data is untrusted: anything unreadable means a new session
            data = None
        if not isinstance(data, dict):
            if app is not None:
                app.logger.warning("Discarding a session whose stored data is not readable")
            return None
        return data

    def _expired(self, data: dict[str, Any], seen: float | None, now: float) -> bool:
        created = created_of(data)
        if created is None or now - created >= self.lifetime:
            return True
        return now - (seen or created) >= self.idle_timeout

    def ttl(self, session: ServerSession, now: float) -> int:
        """Seconds the session may still live: the idle timeout, capped by the absolute end."""
        created = created_of(session) or now
        return max(1, int(min(self.idle_timeout, created + self.lifetime - now)))

    async def save_session(
        self, app: Quart, session: Any, response: Response | WerkzeugResponse | None
    ) -> None:
        """Write what changed; when Redis fails now, the response becomes the 503 page.

        This runs after the error handlers, so a failure here is handled here: the browser
        gets the outage page (with Retry-After), never a 500 or a half-done redirect.
        """
        if not isinstance(session, ServerSession) or session.state.unavailable:
            return
        if is_empty(session) and not session.state.stored:
            return  # a new session that holds nothing: nothing to write, no cookie to set
        try:
            await self._write(app, session, response)
        except RedisError as error:
            redis_errors.labels("save_session").inc()
            app.logger.warning("Redis unavailable while saving a session: %s", error)
            if isinstance(response, Response) and self.write_failed is not None:
                await self.write_failed(response)

    async def _write(
        self, app: Quart, session: ServerSession, response: Response | WerkzeugResponse | None
    ) -> None:
        """Write data and cookie, a new id, or only the last-seen time."""
        now = time.time()
        state = session.state
        redis: Any = self.redis
        async with redis.pipeline(transaction=False) as pipe:
            old_sid: list[str] = []
            if state.regenerate:
                old_sid = [session.sid]
                self._queue_delete(pipe, session)
                session.sid = new_session_id()
                session.modified = True
                state.stored = False
                state.regenerate = False
            ended: list[str] = []
            if session.modified:
                ended = self._queue_write(pipe, session, now)
                self._set_cookie(app, session, response, now)
            elif state.touch_due:
                data_key, seen_key = session_keys(session.sid)
                ttl = self.ttl(session, now)
                pipe.set(seen_key, now, ex=ttl).expire(data_key, ttl)
                if owner := index.owner_of(session):
                    index.queue_touch(pipe, owner, session.sid, now + ttl)
            if len(pipe):
                await self._execute(pipe, ended, [*old_sid, session.sid])

    def _queue_delete(self, pipe: Any, session: ServerSession) -> None:
        pipe.delete(*session_keys(session.sid))
        if owner := session.state.owner:
            index.queue_remove(pipe, owner, session.sid)

    def _queue_write(self, pipe: Any, session: ServerSession, now: float) -> list[str]:
        """Queue the session's write (or its deletion, once it is empty); return the ids of
        the stored sessions this ends."""
        data_key, seen_key = session_keys(session.sid)
        if is_empty(session):
            self._queue_delete(pipe, session)
            return [session.sid] if session.state.stored else []
        session.setdefault(CREATED, now)
        ttl = self.ttl(session, now)
        # A session read from Redis is only updated while it is still there: a sign-out (or
        # expiry) by another request in the meantime must not be undone by this write.
        data = self.serializer.dumps(dict(session))
        pipe.set(data_key, data, ex=ttl, xx=session.state.stored)
        pipe.set(seen_key, now, ex=ttl)  # harmless if orphaned: it only expires
        owner = index.owner_of(session)
        if session.state.owner is not None and session.state.owner != owner:
            # A refresh changed the Logto session (sid): no longer listed under the old one.
            index.queue_remove(pipe, session.state.owner, session.sid)
        if owner is not None:
            # Listed even if the SET XX above found the session gone: readers skip such ids.
            index.queue_add(pipe, owner, session.sid, now + ttl, self.lifetime)
        session.state.owner = owner
        return []

    async def _execute(self, pipe: Any, ended: list[str], written: list[str]) -> list[Any]:
        """Send the pipeline that writes (or ends) the sessions `written`; when it ends
        sessions on a replicated topology (Sentinel, Cluster), wait (bounded) until a replica
        has the deletions too, so a failover right after cannot bring an ended session back.
        Replication is asynchronous otherwise."""
        waits = self._queue_replica_waits(pipe, ended) if self.replicated else 0
        if self.cache is not None:
            self.cache.forget(written)  # before and after: no read in between is kept
        try:
            results: list[Any] = await pipe.execute()
        finally:
            if self.cache is not None:
                self.cache.forget(written)
        if waits and not all(results[-waits:]):
            logger.warning(
                "No replica acknowledged an ended session within %d ms: a failover now could "
                "bring it back (see min-replicas-to-write)",
                self.replica_wait_ms,
            )
        return results

    def _queue_replica_waits(self, pipe: Any, sids: list[str]) -> int:
        """Queue WAIT 1 <ms> behind the deletions, on the connection that sent them: on a
        Cluster once per node that holds one of their data keys."""
        if not sids:
            return 0
        if not uses_cluster(self.redis):
            pipe.execute_command("WAIT", 1, self.replica_wait_ms)
            return 1
        cluster: Any = self.redis
        nodes = {cluster.get_node_from_key(session_keys(sid)[0]).name: sid for sid in sids}
        for name in nodes:
            pipe.execute_command(
                "WAIT", 1, self.replica_wait_ms, target_nodes=cluster.get_node(node_name=name)
            )
        return len(nodes)

    def _set_cookie(
        self,
        app: Quart,
        session: ServerSession,
        response: Response | WerkzeugResponse | None,
        now: float,
    ) -> None:
        if response is None:
            return
        name, path = self.get_cookie_name(app), self.get_cookie_path(app)
        if is_empty(session):
            response.delete_cookie(name, path=path, secure=self.get_cookie_secure(app))
            return
        created = created_of(session) or now
        response.set_cookie(
            name,
            session.sid,
            expires=created + self.lifetime,
            path=path,
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )

    # What the rest of the app needs

    @staticmethod
    def regenerate_id(session: object) -> None:
        """Give `session` a new id when it is saved, deleting the old one (fixation)."""
        state_of(session).regenerate = True

    async def persist(self, session: ServerSession) -> None:
        """Write the session now (inside a lock), so the end of the request need not."""
        async with self.redis.pipeline(transaction=False) as pipe:
            ended = self._queue_write(pipe, session, time.time())
            await self._execute(pipe, ended, [session.sid])
        session.modified = False

    async def create_signed_in(self, claims: dict[str, Any], id_token: str) -> str:
        """Store a new signed-in session holding `claims` and `id_token`; return its id.

        What a sign-in stores, made directly (app.testing's signed_in uses it).
        """
        session = self.fresh()
        set_sdk_value(session, "idToken", id_token)
        set_claims(session, claims)
        await self.persist(session)
        return str(session.sid)

    async def end(self, sid: str) -> None:
        """Delete session `sid` (and its index entries) if it is still stored."""
        await self.delete_many(await self.load_many([sid]))

    def cookie_name(self, app: Quart) -> str:
        """The session cookie's name."""
        name: str = self.get_cookie_name(app)
        return name

    async def load(self, sid: str) -> dict[str, Any] | None:
        """The stored data of session `sid`, or None."""
        redis: Any = self.redis
        return self._decode(None, await redis.get(session_keys(sid)[0]))

    async def load_many(self, sids: list[str]) -> list[StoredSession]:
        """The stored sessions among `sids` (one pipeline of single-key reads)."""
        redis: Any = self.redis
        async with redis.pipeline(transaction=False) as pipe:
            for sid in sids:
                data_key, seen_key = session_keys(sid)
                pipe.get(data_key).get(seen_key)  # a Cluster pipeline refuses MGET
            answers = await pipe.execute()
        found = []
        pairs = zip(answers[::2], answers[1::2], strict=True)
        for sid, (blob, seen) in zip(sids, pairs, strict=True):
            if (data := self._decode(None, blob)) is not None:
                found.append(StoredSession(sid, data, number(seen)))
        return found

    async def delete_many(self, sessions: list[StoredSession]) -> None:
        """Delete `sessions` and their index entries (one pipeline)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for stored in sessions:
                pipe.delete(*session_keys(stored.sid))
                if owner := stored.owner:
                    index.queue_remove(pipe, owner, stored.sid)
            sids = [stored.sid for stored in sessions]
            await self._execute(pipe, sids, sids)

    async def sessions_of_user(self, sub: str) -> list[StoredSession]:
        """The stored sessions of user `sub` (index entries of ended sessions are skipped)."""
        sids = await self.session_ids_of_user(sub)
        return [stored for stored in await self.load_many(sids) if stored.belongs_to(sub)]

    async def session_ids_of_logto_session(self, logto_sid: str) -> list[str]:
        """The app sessions signed in through Logto session `logto_sid`."""
        return await index.live_members(self.redis, index.logto_key(logto_sid))

    async def session_ids_of_user(self, sub: str) -> list[str]:
        """The app sessions the index lists for user `sub`."""
        return await index.live_members(self.redis, index.user_key(sub))

    async def least_recent_session_ids(self, sub: str, keep: int) -> list[str]:
        """User `sub`'s listed sessions beyond the `keep` most recently used, oldest first."""
        sids = await self.session_ids_of_user(sub)  # by expiry: least recently used first
        return sids[: max(len(sids) - keep, 0)]

    def refresh_lock(self, sid: str, seconds: float) -> Lock:
        """The lock under which session `sid`'s tokens are refreshed, across workers."""
        return self.redis.lock(LOCK_PREFIX + sid, timeout=seconds, blocking_timeout=seconds)

    async def first_use(self, jti: str, seconds: int) -> bool:
        """Remember a logout token's `jti` for `seconds`; False if it was seen before."""
        return bool(await self.redis.set(f"{JTI_PREFIX}{{{jti}}}", "1", nx=True, ex=seconds))
