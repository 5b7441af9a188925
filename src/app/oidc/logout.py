"""Ending sessions beyond this browser's: back-channel logout, sign-out everywhere, one session.

A session ends by deleting it (and its index entries) from Redis, which every worker on every
host sees at the next request, and by revoking its refresh token at Logto, which keeps
offline_access grants through end-session. Revocations run together and never hold the
answer past PROVIDER_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
from quart import current_app

from app.config import current_settings
from app.oidc import tokens
from app.oidc.flows import sdk_client
from app.oidc.jwt_verifier import Expected
from app.sessions import index
from app.sessions.interface import StoredSession, redis_client, session_interface
from app.storage import KEY_PREFIX

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_CLAIMS = ("iss", "aud", "iat", "jti", "events")
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - the typ of a logout token, not a secret
MAX_AGE = 5 * 60  # seconds a logout token is accepted after it was issued
JTI_PREFIX = "backchannel-jti:"
REFRESH_TOKEN = KEY_PREFIX + "refreshToken"


class LogoutTokenRejected(jwt.InvalidTokenError):
    """A logout token that fails a check of Back-Channel Logout 1.0 section 2.6."""


async def verify_logout_token(token: str) -> dict[str, Any]:
    """The claims of a valid logout token; LogoutTokenRejected (or a jwt error) otherwise."""
    core = await sdk_client().getOidcCore()
    expected = Expected(
        core.metadata.issuer,
        current_settings().logto_app_id,
        core.algorithms,
        claims=LOGOUT_TOKEN_CLAIMS,
        typ=LOGOUT_TOKEN_TYPE,
        azp=False,
    )
    claims = await core.verify(token, expected)
    check_logout_claims(claims)
    return claims


def check_logout_claims(claims: dict[str, Any]) -> None:
    """The checks PyJWT does not make: age, event, no nonce, sid or sub."""
    if time.time() - float(claims["iat"]) > MAX_AGE:
        raise LogoutTokenRejected("issued too long ago")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise LogoutTokenRejected("no back-channel logout event")
    if "nonce" in claims:
        raise LogoutTokenRejected("a logout token must not carry a nonce")
    if not any(isinstance(claims.get(name), str) and claims[name] for name in ("sid", "sub")):
        raise LogoutTokenRejected("neither sid nor sub")
    if not isinstance(claims.get("jti"), str):
        raise LogoutTokenRejected("no jti")


async def first_use(jti: str) -> bool:
    """Remember `jti` (long enough to outlive the token's acceptance); False if seen before."""
    redis = redis_client(current_app._get_current_object())  # type: ignore[attr-defined]
    stored = await redis.set(f"{JTI_PREFIX}{{{jti}}}", "1", nx=True, ex=2 * MAX_AGE)
    return bool(stored)


async def sessions_for_logout(claims: dict[str, Any]) -> list[str]:
    """The app sessions a logout token ends: those of its Logto sid, else all of its sub."""
    redis = redis_client(current_app._get_current_object())  # type: ignore[attr-defined]
    if isinstance(claims.get("sid"), str):
        return await index.live_members(redis, index.logto_key(claims["sid"]))
    return await index.live_members(redis, index.user_key(claims["sub"]))


async def sessions_of_user(sub: str) -> list[StoredSession]:
    """The stored sessions of user `sub` (index entries of ended sessions are skipped)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    sids = await index.live_members(redis_client(app), index.user_key(sub))
    return [
        stored
        for stored in await session_interface(app).load_many(app, sids)
        if (owner := index.owner_of(stored.data)) and owner.sub == sub
    ]


async def end_sessions(sids: list[str], *, sub: str | None = None) -> int:
    """End the stored sessions among `sids` (only those of user `sub` when given).

    Deletes them from Redis, then revokes their refresh tokens; returns how many ended.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    interface = session_interface(app)
    found = await interface.load_many(app, sids)
    if sub is not None:
        found = [s for s in found if (owner := index.owner_of(s.data)) and owner.sub == sub]
    if not found:
        return 0
    await interface.delete_many(found)
    await revoke_all([token for s in found if isinstance(token := s.data.get(REFRESH_TOKEN), str)])
    return len(found)


async def revoke_all(refresh_tokens: list[str]) -> None:
    """Revoke every token at Logto at once, giving up (logged) after PROVIDER_TIMEOUT."""
    if not refresh_tokens:
        return
    client = sdk_client()
    try:
        async with asyncio.timeout(current_settings().PROVIDER_TIMEOUT):
            results = await asyncio.gather(
                *(tokens.revoke(client, token) for token in refresh_tokens),
                return_exceptions=True,
            )
    except TimeoutError:
        current_app.logger.warning("Revoking %d refresh tokens took too long", len(refresh_tokens))
        return
    for result in results:
        if isinstance(result, BaseException):
            current_app.logger.warning("Could not revoke a refresh token: %s", result)
