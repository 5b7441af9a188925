"""The provider's signing keys, fetched without blocking and cached for the worker.

The set is refetched when a token names a kid it lacks (at most once a minute, so a stream
of made-up kids cannot flood the provider) and once it is older than the JWKS response's
`Cache-Control: max-age` (5 minutes without one, at most an hour), for known kids too: a
key Logto withdraws stops being trusted within that time. Only the request that finds the
set stale waits for the refetch; requests meanwhile use the keys at hand. A failed refetch
keeps the keys and is tried again a minute later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from time import monotonic
from typing import Any

import jwt

from app.oidc.provider import misconfigured

# Bounds the JWKS requests a stream of tokens with made-up kids can cause.
REFETCH_INTERVAL = 60.0
DEFAULT_MAX_AGE = 300.0
MIN_MAX_AGE = 1.0  # no-store or max-age=0: refetched at most once a second per worker
MAX_MAX_AGE = 3600.0
logger = logging.getLogger("app.keys")

Fetch = Callable[[], Awaitable[tuple[Any, float | None]]]  # the document and its max-age


class JwksCache:
    """Signing keys by kid from one JWKS, refetched for an unknown kid and when stale."""

    def __init__(self, fetch: Fetch) -> None:
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = asyncio.Lock()
        self._refetched_at: float | None = None  # the last refetch for an unknown kid
        self._stale_at = 0.0  # when the cached set must be fetched again

    @property
    def keys(self) -> Mapping[str, jwt.PyJWK]:
        """The cached keys by kid (no I/O)."""
        return self._keys

    async def ensure(self, kid: str) -> None:
        """Have the key for `kid` if the provider publishes it: fetch an unknown kid's set
        (rate limited) and refresh a stale set."""
        if kid in self._keys:
            if monotonic() >= self._stale_at and not self._lock.locked():
                await self._refresh_stale()
            return
        async with self._lock:  # concurrent callers wait for one fetch
            if kid in self._keys or not self._may_fetch():
                return
            if self._keys:
                self._refetched_at = monotonic()
            await self._load()

    async def _refresh_stale(self) -> None:
        async with self._lock:
            if monotonic() < self._stale_at:
                return  # another request refreshed it meanwhile
            try:
                await self._load()
            except Exception as error:  # keep the keys we have; try again later
                logger.warning("Could not refresh the provider's signing keys: %s", error)
                self._stale_at = monotonic() + REFETCH_INTERVAL

    async def _load(self) -> None:
        document, max_age = await self._fetch()
        self._keys = parse_jwks(document)
        self._stale_at = monotonic() + key_set_lifetime(max_age)

    def _may_fetch(self) -> bool:
        # The first load (or a retry after it failed) is not rate limited; refetches are.
        if not self._keys or self._refetched_at is None:
            return True
        return monotonic() - self._refetched_at >= REFETCH_INTERVAL


def key_set_lifetime(max_age: float | None) -> float:
    """How long a fetched key set is trusted: its max-age (at least a second), else 5 minutes,
    at most an hour."""
    if max_age is None:
        return DEFAULT_MAX_AGE
    return min(max(max_age, MIN_MAX_AGE), MAX_MAX_AGE)


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """The signing keys with a kid in a JWKS document (PyJWKSet skips keys it cannot use)."""
    try:
        key_set = jwt.PyJWKSet.from_dict(document if isinstance(document, dict) else {})
    except jwt.PyJWTError as error:
        raise misconfigured(f"its JWKS has no usable keys ({error})") from error
    keys = {
        key.key_id: key
        for key in key_set
        if isinstance(key.key_id, str) and key.public_key_use in (None, "sig")
    }
    if not keys:
        raise misconfigured("its JWKS has no signing key with a kid")
    return keys
