"""Single-flight access-token refresh per session, across workers and hosts.

Logto rotates refresh tokens and treats a reused one as theft, revoking the grant. Two
workers refreshing one session at once would both spend the same refresh token, so the
refresh runs under a short Redis lock per session: the loser waits, then reads the
winner's tokens from Redis instead of refreshing again.
"""

from __future__ import annotations

import aiohttp
from logto import LogtoClient, LogtoException
from quart import current_app, session

from app.config import current_settings
from app.sessions.interface import current_session_id, redis_client, session_interface
from app.storage import KEY_PREFIX, USER_KEY, remember_user

LOCK_PREFIX = "lock:refresh:"


async def access_token(client: LogtoClient) -> str | None:
    """A valid access token for the userinfo endpoint; None when there is no refresh token."""
    if (token := client._getAccessToken("")) is not None:
        return str(token)
    if client.getRefreshToken() is None:
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    seconds = current_settings().PROVIDER_TIMEOUT + 5
    lock = redis_client(app).lock(
        LOCK_PREFIX + current_session_id(), timeout=seconds, blocking_timeout=seconds
    )
    async with lock:
        await _adopt_stored_tokens()
        token = client._getAccessToken("")
        if token is None:
            token = await client.getAccessToken()
            remember_user(client)
        await session_interface(app).persist(session)
    return str(token)


async def _adopt_stored_tokens() -> None:
    """Take the tokens another worker may have stored since this request read the session.

    A session that is gone from Redis was signed out (or expired) meanwhile: refreshing and
    saving it would bring it back, so the refresh is refused instead.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stored = await session_interface(app).load(app, current_session_id())
    if stored is None:
        raise LogtoException("The session ended while its tokens were being refreshed")
    for key, value in stored.items():
        if key.startswith(KEY_PREFIX) or key == USER_KEY:
            session[key] = value


async def revoke(client: LogtoClient, refresh_token: str) -> bool:
    """Revoke `refresh_token` at Logto (RFC 7009), so it cannot outlive the sign-out.

    Logto keeps offline_access grants through end-session: without this, a refresh token
    copied from Redis or a backup would still work. A failure is logged, never raised.
    """
    core = await client.getOidcCore()
    url = getattr(core.metadata, "revocation_endpoint", None)
    if not url:
        current_app.logger.warning("Logto announces no revocation endpoint: nothing revoked")
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
        current_app.logger.warning("Could not revoke a refresh token at Logto: %s", error)
        return False
    return True
