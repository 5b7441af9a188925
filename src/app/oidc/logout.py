"""Ending sessions beyond this browser's: back-channel logout, sign-out everywhere, one session.

A session ends by deleting it (and its index entries) from Redis, which every worker on every
host sees at the next request, and by revoking its refresh token at Logto, which keeps
offline_access grants through end-session. Revocations run together and never hold the
answer past PROVIDER_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import jwt

from app.oidc import tokens
from app.oidc.jwt_verifier import Expected
from app.oidc.parts import Parts
from app.sessions.store import StoredSession

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_CLAIMS = ("iss", "aud", "iat", "jti", "events")
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - the typ of a logout token, not a secret
MAX_AGE = 5 * 60  # seconds a logout token is accepted after it was issued
REVOKE_BATCH = 10  # refresh tokens revoked at once

logger = logging.getLogger("app.logout")


class LogoutTokenRejected(jwt.InvalidTokenError):
    """A logout token that fails a check of Back-Channel Logout 1.0 section 2.6."""


async def verify_logout_token(parts: Parts, token: str) -> dict[str, Any]:
    """The claims of a valid logout token; LogoutTokenRejected (or a jwt error) otherwise."""
    core = await parts.client.getOidcCore()
    expected = Expected(
        core.metadata.issuer,
        parts.settings.logto_app_id,
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


async def first_use(parts: Parts, jti: str) -> bool:
    """Remember `jti` (long enough to outlive the token's acceptance); False if seen before."""
    return await parts.store.first_use(jti, 2 * MAX_AGE)


async def sessions_for_logout(parts: Parts, claims: dict[str, Any]) -> list[str]:
    """The app sessions a logout token ends: those of its Logto sid, else all of its sub.

    With both sid and sub, when no session is bound to the sid, the sessions of that sub that
    recorded no sid (their ID token had none) end: nothing ties them to another Logto session.
    """
    sid, sub = claims.get("sid"), claims.get("sub")
    if isinstance(sid, str):
        bound = await parts.store.session_ids_of_logto_session(sid)
        if bound or not isinstance(sub, str):
            return bound
        sessions = await parts.store.sessions_of_user(sub)
        return [s.sid for s in sessions if s.owner is not None and s.owner.logto_sid is None]
    return await parts.store.session_ids_of_user(claims["sub"])


async def end_sessions(parts: Parts, sids: list[str], *, sub: str | None = None) -> int:
    """End the stored sessions among `sids` (only those of user `sub` when given).

    Deletes them from Redis, then revokes their refresh tokens; returns how many ended.
    """
    found = await parts.store.load_many(sids)
    if sub is not None:
        found = [stored for stored in found if stored.belongs_to(sub)]
    if not found:
        return 0
    await parts.store.delete_many(found)
    await revoke_all(parts, [token for s in found if (token := s.refresh_token) is not None])
    return len(found)


async def revoke_all(parts: Parts, refresh_tokens: list[str]) -> int:
    """Revoke the tokens at Logto, REVOKE_BATCH at a time, for at most PROVIDER_TIMEOUT in all;
    return (and log) how many could not be revoked."""
    revoked = 0
    try:
        async with asyncio.timeout(parts.settings.PROVIDER_TIMEOUT):
            for start in range(0, len(refresh_tokens), REVOKE_BATCH):
                batch = refresh_tokens[start : start + REVOKE_BATCH]
                results = await asyncio.gather(
                    *(tokens.revoke(parts.client, token) for token in batch),
                    return_exceptions=True,
                )
                revoked += sum(result is True for result in results)
    except TimeoutError:
        logger.warning("Revoking refresh tokens took longer than PROVIDER_TIMEOUT")
    failed = len(refresh_tokens) - revoked
    if failed:
        logger.warning(
            "Could not revoke %d of %d refresh tokens at Logto (they end when they expire)",
            failed,
            len(refresh_tokens),
        )
    return failed


async def enforce_session_cap(parts: Parts, sub: str) -> int:
    """Make room for one more session of `sub`: end its least recently used sessions beyond
    MAX_SESSIONS_PER_USER - 1 (their refresh tokens revoked); return how many ended."""
    keep = parts.settings.MAX_SESSIONS_PER_USER - 1
    excess = await parts.store.least_recent_session_ids(sub, keep)
    if not excess:
        return 0
    ended = await end_sessions(parts, excess, sub=sub)
    logger.info("Ended %d session(s) of a user over MAX_SESSIONS_PER_USER", ended)
    return ended


async def other_sessions(parts: Parts, sub: str, current_sid: str) -> list[StoredSession]:
    """User `sub`'s stored sessions but the one with id `current_sid`."""
    return [s for s in await parts.store.sessions_of_user(sub) if s.sid != current_sid]
