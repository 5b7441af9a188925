"""The provider's signing keys, fetched without blocking and cached for the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from time import monotonic
from typing import Any

import jwt

from app.oidc.provider import misconfigured

# Bounds the JWKS requests a stream of tokens with made-up kids can cause.
REFETCH_INTERVAL = 60.0


class JwksCache:
    """Signing keys by kid from one JWKS; an unknown kid refetches it, at most once a minute."""

    def __init__(self, fetch: Callable[[], Awaitable[Any]]) -> None:
        self._fetch = fetch
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = asyncio.Lock()
        self._refetched_at: float | None = None

    @property
    def keys(self) -> Mapping[str, jwt.PyJWK]:
        """The cached keys by kid (no I/O)."""
        return self._keys

    async def ensure(self, kid: str) -> None:
        """Fetch the JWKS if `kid` is not cached and the refetch budget allows it."""
        if kid in self._keys:
            return
        async with self._lock:  # concurrent callers wait for one fetch
            if kid in self._keys or not self._may_fetch():
                return
            if self._keys:
                self._refetched_at = monotonic()
            self._keys = parse_jwks(await self._fetch())

    def _may_fetch(self) -> bool:
        # The first load (or a retry after it failed) is not rate limited; refetches are.
        if not self._keys or self._refetched_at is None:
            return True
        return monotonic() - self._refetched_at >= REFETCH_INTERVAL


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
