"""Sign-in, callback and sign-out through the Logto SDK, and the signed-in user's claims."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import jwt
from logto import InteractionMode, LogtoException
from logto.LogtoClient import SignInSession
from quart import session

from app.errors import AppError
from app.oidc import tokens
from app.oidc.authorization import (
    SignInOptions,
    authorization_request,
    authorization_url,
    extra_parameters,
)
from app.oidc.parts import Parts
from app.oidc.reauth import ReauthenticationRefused, check_reauthentication
from app.oidc.transactions import Transaction
from app.sessions.data import (
    forget_tokens,
    restore_tokens,
    set_claims,
    signed_in_claims,
    token_fields,
)
from app.storage import SessionStorage

SIGN_IN_SESSION = "signInSession"  # the SDK's one Storage slot for a sign-in in progress
NO_OPTIONS = SignInOptions()


async def sign_in_url(
    parts: Parts,
    interaction_mode: InteractionMode | None,
    next_path: str,
    options: SignInOptions = NO_OPTIONS,
) -> str:
    """Start a sign-in transaction (kept under its state) and return the URL to redirect to.

    A re-authentication (`options.reauthenticate`, for the signed-in user) keeps the
    session's tokens until its callback succeeds: the SDK's signIn forgets them, so they are
    put back at once.
    """
    storage = SessionStorage()
    user = signed_in_claims(session) if options.reauthenticate else None
    before, held = dict(session), token_fields(session)
    async with parts.http.call():
        sdk_url: str = await parts.client.signIn(parts.redirect_uri, interaction_mode)
        sdk_session = storage.get(SIGN_IN_SESSION) or ""
        storage.delete(SIGN_IN_SESSION)  # kept in the transaction cookie instead (see transactions)
        _put_back(held, before)
        nonce = secrets.token_urlsafe(32)  # the SDK sends none; the callback checks it
        if user is None:
            options = replace(options, reauthenticate=False)
        extra = extra_parameters(parts.settings, interaction_mode, nonce, options)
        url = await authorization_url(parts, *authorization_request(sdk_url, extra))
    state = SignInSession.model_validate_json(sdk_session).state
    parts.sign_ins.remember(
        state,
        sdk_session,
        next_path,
        nonce,
        expected_sub=user["sub"] if user else None,
        max_age=parts.settings.REAUTH_MAX_AGE if user else None,
    )
    return url


def _put_back(held: dict[str, Any], before: dict[str, Any]) -> None:
    """Restore the tokens `held`; a session left as it was `before` is not written again, so
    this request cannot undo a token refresh another worker saves meanwhile."""
    restore_tokens(session, held)
    if dict(session) == before:
        session.modified = False


async def complete_sign_in(
    parts: Parts, callback_url: str, state: str | None, iss: str | None
) -> str:
    """Finish the sign-in whose `state` the callback carries; return where to go next.

    Raises a 400 AppError, before any token request, for a missing, unknown, replayed or
    foreign state and for an `iss` that is not our issuer (RFC 9207). A re-authentication
    must bring an ID token of the same user with a recent auth_time (ReauthenticationRefused
    otherwise). Whatever fails, the session keeps exactly the tokens and claims it had.
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
    before, held = dict(session), token_fields(session)
    current = signed_in_claims(session)
    try:
        claims = await _exchange_code(parts, callback_url, transaction)
        if transaction.expected_sub is not None:
            check_reauthentication(
                claims,
                transaction.expected_sub,
                current["sub"] if current else None,
                transaction.max_age or parts.settings.REAUTH_MAX_AGE,
            )
    except BaseException:
        _put_back(held, before)
        raise
    set_claims(session, claims)
    parts.store.regenerate_id(session)
    return transaction.next


async def _exchange_code(
    parts: Parts, callback_url: str, transaction: Transaction
) -> dict[str, Any]:
    """Let the SDK exchange the code and store the tokens; the checked ID token's claims."""
    failed = reauthentication_failed if transaction.reauthenticates else sign_in_failed
    storage = SessionStorage()
    storage.set(SIGN_IN_SESSION, transaction.sdk_session)
    try:
        async with parts.http.call():
            await parts.client.handleSignInCallback(callback_url)
    except LogtoException as error:
        raise failed(str(error)) from error
    except jwt.PyJWTError as error:
        raise failed(f"The ID token failed verification ({error}).") from error
    finally:
        storage.delete(SIGN_IN_SESSION)
    claims: dict[str, Any] = parts.client.getIdTokenClaims().model_dump(exclude_none=True)
    if not hmac.compare_digest(str(claims.get("nonce", "")), transaction.nonce):
        raise failed("The ID token was not issued for this sign-in (its nonce differs).")
    return claims


async def issuer(parts: Parts) -> str:
    """The provider's issuer, from its (cached) discovery document."""
    async with parts.http.call():
        core = await parts.client.getOidcCore()
    value: str = core.metadata.issuer
    return value


def sign_in_failed(reason: str) -> AppError:
    """The 400 page for a failed or tampered callback."""
    return AppError(400, reason, title="Sign-in failed", offer_sign_in=True)


def reauthentication_failed(reason: str) -> AppError:
    """The 400 page for a failed re-authentication callback (the user stays signed in)."""
    return ReauthenticationRefused(reason)


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
