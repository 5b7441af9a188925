"""One token service for every audience: userinfo, API resources and organizations.

Tokens come from the SDK (`getAccessToken(resource)`, which covers organization tokens as
`urn:logto:organization:<id>`) and stay server-side in the session. Logto rotates refresh
tokens and treats a reused one as theft, revoking the whole grant, so every refresh runs
under a short Redis lock per session, across workers and hosts: the loser waits, then
adopts the winner's tokens from Redis instead of refreshing again. A refresh Logto refuses
(grant revoked or expired) signs the session out; a token it will not issue for one
audience (not granted at sign-in, not a member) is a TokenUnavailable for that audience.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import jwt
from logto import LogtoClient, LogtoException
from logto.utilities import buildOrganizationUrn
from quart import session

from app.errors import AppError
from app.observability.metrics import counts_refreshes
from app.oidc.parts import Parts
from app.sessions.data import adopt_tokens, set_claims, update_claims
from app.sessions.store import ServerSession, session_id_of

logger = logging.getLogger("app.tokens")
# Token-endpoint errors that mean the grant itself is gone: the session cannot go on.
GRANT_GONE = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})


class TokenUnavailable(AppError):
    """Logto will not issue a token for this audience; the session itself is fine."""

    def __init__(self, audience: str, error: str, description: str) -> None:
        super().__init__(403, description or error, title="No access token")
        self.audience = audience
        self.error = error


def signed_out(reason: str) -> AppError:
    """Clear the session and return the 401 page for a grant Logto no longer honours."""
    logger.info("Signing out a session whose tokens Logto refused: %s", reason)
    session.clear()
    return AppError(401, "Your sign-in has expired. Please sign in again.", offer_sign_in=True)


async def access_token(parts: Parts, resource: str = "") -> str:
    """A valid access token for `resource` ("" for userinfo), refreshed once if expired.

    Raises the 401 AppError (session cleared) when the grant is gone and TokenUnavailable
    when Logto refuses this one audience.
    """
    client = parts.client
    if (token := client._getAccessToken(resource)) is not None:
        return str(token)
    if client.getRefreshToken() is None:
        raise signed_out("no refresh token in the session")
    seconds = parts.settings.PROVIDER_TIMEOUT + 5
    assert isinstance(session, ServerSession)
    async with parts.store.refresh_lock(session_id_of(session), seconds):
        await _adopt_stored_tokens(parts)
        try:
            token = client._getAccessToken(resource)
            if token is None:
                token = await _refresh(client, resource)
        finally:
            # Whatever happened, the token fields are written here, under the lock: left to
            # the end of the request, the adopted copy could overwrite a newer refresh.
            await parts.store.persist(session)
    return str(token)


async def change_claims(parts: Parts, changes: dict[str, Any]) -> None:
    """Change some of the session's kept claims under the refresh lock, written at once: the
    token fields (claims among them) are never written outside it (see access_token)."""
    assert isinstance(session, ServerSession)
    seconds = parts.settings.PROVIDER_TIMEOUT + 5
    async with parts.store.refresh_lock(session_id_of(session), seconds):
        await _adopt_stored_tokens(parts)
        update_claims(session, changes)
        await parts.store.persist(session)


async def organization_token(parts: Parts, organization_id: str) -> str:
    """A valid organization token for `organization_id` (see access_token)."""
    return await access_token(parts, buildOrganizationUrn(organization_id))


@counts_refreshes
async def _refresh(client: LogtoClient, resource: str) -> str:
    try:
        token = await client.getAccessToken(resource)
    except jwt.PyJWTError as error:  # the refreshed ID token failed verification
        raise signed_out(f"refreshed ID token refused: {error}") from error
    except LogtoException as error:
        code, description = _token_error(error)
        if code in GRANT_GONE:
            raise signed_out(f"{code}: {description}") from error
        raise TokenUnavailable(resource, code or "unavailable", description) from error
    if token is None:
        raise signed_out("no refresh token in the session")
    set_claims(session, client.getIdTokenClaims().model_dump(exclude_none=True))
    return str(token)


def _token_error(error: LogtoException) -> tuple[str, str]:
    """The OAuth error code and description of a refused token request ("" when unknown)."""
    try:
        body = json.loads(str(error))
    except ValueError:
        return "", str(error)
    if not isinstance(body, dict):
        return "", str(error)
    return str(body.get("error", "")), str(body.get("error_description", ""))


async def _adopt_stored_tokens(parts: Parts) -> None:
    """Take the tokens another worker may have stored since this request read the session.

    A session that is gone from Redis was signed out (or expired) meanwhile: refreshing and
    saving it would bring it back, so the refresh is refused instead.
    """
    stored = await parts.store.load(session_id_of(session))
    if stored is None:
        raise signed_out("the session ended while its tokens were being refreshed")
    adopt_tokens(session, stored)


async def revoke(client: LogtoClient, refresh_token: str) -> bool:
    """Revoke `refresh_token` at Logto (RFC 7009), so it cannot outlive the sign-out.

    Logto keeps offline_access grants through end-session: without this, a refresh token
    copied from Redis or a backup would still work. A failure is logged, never raised.
    """
    core = await client.getOidcCore()
    url = getattr(core.metadata, "revocation_endpoint", None)
    if not url:
        logger.warning("Logto announces no revocation endpoint: nothing revoked")
        return False
    form = {
        "token": refresh_token,
        "token_type_hint": "refresh_token",
        "client_id": client.config.appId,
        "client_secret": client.config.appSecret or "",
    }
    try:
        await core.http.revoke(url, form)
    except aiohttp.ClientError as error:
        logger.warning("Could not revoke a refresh token at Logto: %s", error)
        return False
    return True
