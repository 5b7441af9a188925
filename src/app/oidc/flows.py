"""Sign-in, callback and sign-out through the Logto SDK, and the signed-in user's claims."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
from logto import InteractionMode, LogtoException
from logto.LogtoClient import SignInSession
from quart import session

from app.errors import AppError
from app.oidc import tokens
from app.oidc.parts import Parts
from app.sessions.data import forget_tokens, set_claims, signed_in_claims
from app.storage import SessionStorage

SIGN_IN_SESSION = "signInSession"  # the SDK's one Storage slot for a sign-in in progress


async def sign_in_url(
    parts: Parts, interaction_mode: InteractionMode | None, next_path: str
) -> str:
    """Start a sign-in transaction (kept under its state) and return the URL to redirect to."""
    storage = SessionStorage()
    async with parts.http.call():
        url: str = await parts.client.signIn(parts.redirect_uri, interaction_mode)
    sdk_session = storage.get(SIGN_IN_SESSION) or ""
    storage.delete(SIGN_IN_SESSION)  # kept in the transaction cookie instead (see transactions)
    state = SignInSession.model_validate_json(sdk_session).state
    nonce = secrets.token_urlsafe(32)  # the SDK sends none; the callback checks it
    parts.sign_ins.remember(state, sdk_session, next_path, nonce)
    extra = {"nonce": nonce}
    if interaction_mode == "signUp":
        # Logto's current name for the first screen; interaction_mode is the older one.
        extra["first_screen"] = "register"
    return f"{url}&{urlencode(extra)}"


async def complete_sign_in(
    parts: Parts, callback_url: str, state: str | None, iss: str | None
) -> str:
    """Finish the sign-in whose `state` the callback carries; return where to go next.

    Raises a 400 AppError, before any token request, for a missing, unknown, replayed or
    foreign state and for an `iss` that is not our issuer (RFC 9207).
    """
    if not state:
        raise sign_in_failed("The sign-in response has no state.")
    transaction = parts.sign_ins.take(state)
    if transaction is None:
        raise sign_in_failed(
            "This sign-in is unknown or expired: it may have been completed already, "
            "or started in another browser."
        )
    if iss is not None and iss != await issuer(parts):
        raise sign_in_failed("The sign-in response comes from another issuer.")
    storage = SessionStorage()
    storage.set(SIGN_IN_SESSION, transaction.sdk_session)
    try:
        async with parts.http.call():
            await parts.client.handleSignInCallback(callback_url)
    except LogtoException as error:
        raise sign_in_failed(str(error)) from error
    except jwt.PyJWTError as error:
        raise sign_in_failed(f"The ID token failed verification ({error}).") from error
    finally:
        storage.delete(SIGN_IN_SESSION)
    claims = parts.client.getIdTokenClaims().model_dump(exclude_none=True)
    if not hmac.compare_digest(str(claims.get("nonce", "")), transaction.nonce):
        forget_tokens(session)
        raise sign_in_failed("The ID token was not issued for this sign-in (its nonce differs).")
    set_claims(session, claims)
    parts.store.regenerate_id(session)
    return transaction.next


async def issuer(parts: Parts) -> str:
    """The provider's issuer, from its (cached) discovery document."""
    async with parts.http.call():
        core = await parts.client.getOidcCore()
    value: str = core.metadata.issuer
    return value


def sign_in_failed(reason: str) -> AppError:
    """The 400 page for a failed or tampered callback."""
    return AppError(400, reason, title="Sign-in failed", offer_sign_in=True)


async def sign_out_url(parts: Parts) -> str | None:
    """Revoke the refresh token, forget the tokens, and return Logto's end-session URL.

    The URL carries `id_token_hint`, `client_id` and `post_logout_redirect_uri`; it is None
    when Logto cannot be reached, and the local sign-out completes all the same.
    """
    client = parts.client
    id_token, refresh_token = client.getIdToken(), client.getRefreshToken()
    try:
        async with parts.http.call():
            if refresh_token is not None:
                await tokens.revoke(client, refresh_token)
            url: str = await client.signOut(parts.post_sign_out_uri)
    except (AppError, LogtoException) as error:
        tokens.logger.warning("Signing out locally only: %s", error)
        return None
    finally:
        forget_tokens(session)
    return f"{url}&{urlencode({'id_token_hint': id_token})}" if id_token else url


async def fetch_user_info(parts: Parts) -> dict[str, Any]:
    """The user's claims from Logto's userinfo endpoint, refreshing the access token if needed.

    A refresh that Logto refuses (grant revoked or expired) signs the user out locally. The
    answer keeps Logto's extra claims (organization_data, created_at, ...).
    """
    async with parts.http.call():
        token = await tokens.access_token(parts)
        try:
            info = await (await parts.client.getOidcCore()).fetchUserInfo(token)
        except LogtoException as error:
            raise tokens.signed_out(f"userinfo refused the access token: {error}") from error
    user = signed_in_claims(session)
    if user is None or info.sub != user["sub"]:
        tokens.logger.warning("Refusing a userinfo answer about another subject")
        raise AppError(502, "The sign-in service answered with another user's details.")
    result: dict[str, Any] = info.model_dump(exclude_none=True)
    return result
