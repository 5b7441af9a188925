"""The session cache's invalidation channel: one connection per worker that Redis tells of
every change to a session key (CLIENT TRACKING in broadcast mode, RESP2 redirect to itself).

redis-py's asyncio client offers no client-side caching, and its pub/sub reader does not hand
tracking messages over on every version this app supports, so the channel speaks RESP itself
over one asyncio stream, with hiredis (redis-py's own parser) reading the replies.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis

from app.redis_urls import RedisTarget
from app.sessions.cache import SessionCache

logger = logging.getLogger("app.sessions")
CHANNEL = "__redis__:invalidate"
RETRY_AFTER = (0.1, 0.5, 1.0)  # seconds between reconnects, then every second


class ChannelError(Exception):
    """The channel's connection answered something it should not have."""


@dataclass(frozen=True)
class Address:
    """Where the channel connects, and how."""

    host: str | None = None
    port: int | None = None
    path: str | None = None  # a Unix socket
    ssl: ssl.SSLContext | None = None
    username: str | None = None
    password: str | None = None


Locate = Callable[[], Awaitable[Address]]


def standalone_address(target: RedisTarget) -> Address:
    """The address of one server from REDIS_URL (redis://, rediss://, unix://)."""
    parts = urlsplit(target.url)
    options = target.options
    username = options.get("username") or (unquote(parts.username) if parts.username else None)
    password = options.get("password") or (unquote(parts.password) if parts.password else None)
    if parts.scheme == "unix":
        return Address(path=parts.path, username=username, password=password)
    context = tls_context(options) if parts.scheme == "rediss" else None
    return Address(parts.hostname, parts.port or 6379, None, context, username, password)


def tls_context(options: dict[str, Any]) -> ssl.SSLContext:
    """The TLS context REDIS_URL's ssl_* options describe (as redis-py builds it)."""
    context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
    if options.get("ssl_certfile"):
        context.load_cert_chain(options["ssl_certfile"], options.get("ssl_keyfile"))
    requirement = options.get("ssl_cert_reqs", "required")
    context.check_hostname = bool(options.get("ssl_check_hostname", requirement == "required"))
    context.verify_mode = {
        "required": ssl.CERT_REQUIRED,
        "optional": ssl.CERT_OPTIONAL,
        "none": ssl.CERT_NONE,
    }[requirement]
    return context


class InvalidationChannel:
    """Keeps `cache` live while Redis reports every session change; flushes it otherwise."""

    def __init__(self, cache: SessionCache, locate: Locate, prefix: str, timeout: float) -> None:
        self.cache = cache
        self.locate = locate
        self.prefix = prefix
        self.timeout = timeout
        self.key_to_sid: Callable[[str], str | None] = lambda key: None
        self._task: asyncio.Task[None] | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._parser = hiredis.Reader(encoding="utf-8")

    def start(self) -> None:
        """Run the channel in the background (inside the worker's event loop)."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop the channel; the cache is left unusable."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.cache.dead()

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._connect()
                failures = 0
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # any failure: flush, reconnect, log the first
                if failures == 0:
                    logger.warning("Session cache off until Redis answers again: %s", error)
            finally:
                self.cache.dead()
                self._close()
            await asyncio.sleep(RETRY_AFTER[min(failures, len(RETRY_AFTER) - 1)])
            failures += 1

    async def _connect(self) -> None:
        async with asyncio.timeout(self.timeout):
            address = await self.locate()
            self._parser = hiredis.Reader(encoding="utf-8")
            if address.path is not None:
                streams = await asyncio.open_unix_connection(address.path)
            else:
                streams = await asyncio.open_connection(address.host, address.port, ssl=address.ssl)
            self._reader, self._writer = streams
            if address.password is not None:
                credentials = [address.username, address.password] if address.username else []
                await self._call("AUTH", *(credentials or [address.password]))
            client_id = await self._call("CLIENT", "ID")
            await self._call(
                "CLIENT", "TRACKING", "ON", "REDIRECT", str(client_id), "BCAST",
                "PREFIX", self.prefix,
            )  # fmt: skip
            await self._call("SUBSCRIBE", CHANNEL)
        self.cache.flush()  # whatever was read before this moment may have changed unseen
        self.cache.alive_for(self.timeout)

    async def _listen(self) -> None:
        quiet = self.timeout / 3
        unanswered = 0
        while True:
            try:
                message = await asyncio.wait_for(self._next(), quiet)
            except TimeoutError:
                unanswered += 1
                if unanswered * quiet >= self.timeout:
                    raise TimeoutError("no answer to the ping in time") from None
                self._send("PING")
                continue
            unanswered = 0
            self.cache.alive_for(self.timeout)
            self._handle(message)

    def _handle(self, message: Any) -> None:
        if not isinstance(message, list) or not message:
            raise ChannelError(f"unexpected reply {message!r}")
        if message[0] == "pong":
            return
        if message[0] != "message" or len(message) != 3:
            raise ChannelError(f"unexpected message {message[0]!r}")
        keys = message[2]
        if keys is None:  # FLUSHALL, FLUSHDB: everything is gone
            self.cache.flush()
            return
        self.cache.forget([sid for key in keys if (sid := self.key_to_sid(key)) is not None])

    async def _call(self, *args: str) -> Any:
        self._send(*args)
        reply = await self._next()
        if isinstance(reply, hiredis.ReplyError):
            raise ChannelError(str(reply))
        return reply

    def _send(self, *args: str) -> None:
        assert self._writer is not None
        self._writer.write(hiredis.pack_command(args))  # type: ignore[arg-type]

    async def _next(self) -> Any:
        assert self._reader is not None
        while (reply := self._parser.gets()) is False:
            data = await self._reader.read(65536)
            if not data:
                raise ConnectionError("Redis closed the connection")
            self._parser.feed(data)
        return reply

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
