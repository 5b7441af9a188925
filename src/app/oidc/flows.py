"""The one place that talks to the Logto SDK; views call these functions."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
import pydantic
from logto import InteractionMode, LogtoConfig, LogtoException, UserInfoScope
from logto.LogtoClient import SignInSession
from quart import Quart, current_app, session

from app.config import Settings, current_settings
from app.errors import AppError
from app.oidc import tokens, transactions
from app.oidc.client import PooledLogtoClient
from app.oidc.provider import ProviderHttp, ProviderMisconfigured
from app.sessions.interface import regenerate_session_id
from app.storage import KEY_PREFIX, USER_KEY, SessionStorage, remember_user

EXTENSION = "logto"
ENDPOINT_CHECK = "logto_endpoint_check"


def init_app(app: Quart, settings: Settings) -> None:
    """Create the app's LogtoClient; its pooled provider session opens and closes with serving."""
    config = LogtoConfig(
        endpoint=settings.logto_endpoint,
        appId=settings.logto_app_id,
        appSecret=settings.logto_app_secret,
        scopes=[sdk_scope(scope) for scope in settings.scopes],
        resources=settings.resources,
    )
    http = ProviderHttp(settings)
    client = PooledLogtoClient(config, http, storage=SessionStorage())
    app.extensions[EXTENSION] = client
    transactions.init_app(app, settings)
    checks: set[asyncio.Task[None]] = set()

    @app.before_serving
    async def start() -> None:
        await http.start()
        # In the background: Logto may be briefly away, and start-up must not wait for it.
        check = asyncio.create_task(check_endpoint(app, client, settings))
        app.extensions[ENDPOINT_CHECK] = check  # tests may wait for it
        checks.add(check)
        check.add_done_callback(checks.discard)

    @app.after_serving
    async def stop() -> None:
        for check in checks:
            check.cancel()
        await http.close()


async def check_endpoint(app: Quart, client: PooledLogtoClient, settings: Settings) -> None:
    """Fetch the discovery document once and log one line naming LOGTO_ENDPOINT if it is wrong."""
    endpoint = settings.logto_endpoint
    try:
        async with asyncio.timeout(settings.PROVIDER_TIMEOUT):
            await client.getOidcCore()
    except ProviderMisconfigured as error:
        app.logger.error("LOGTO_ENDPOINT %s looks wrong: %s", endpoint, error.message)
    except (TimeoutError, aiohttp.ClientError, pydantic.ValidationError) as error:
        app.logger.error(
            "LOGTO_ENDPOINT %s is unreachable: its discovery document %s/oidc/.well-known/"
            "openid-configuration could not be read (%s)",
            endpoint,
            endpoint,
            describe(error),
        )


def describe(error: BaseException) -> str:
    """A short description of a provider I/O failure for logs and pages."""
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def sdk_scope(scope: str) -> str | UserInfoScope:
    """The SDK's enum member for a scope it knows (it checks organizations by member), else the
    scope itself."""
    try:
        return UserInfoScope(scope)
    except ValueError:
        return scope


def sdk_client() -> PooledLogtoClient:
    """The app's Logto SDK client (one per worker)."""
    client: PooledLogtoClient = current_app.extensions[EXTENSION]
    return client


@asynccontextmanager
async def provider_call() -> AsyncIterator[None]:
    """Bound a provider round trip by PROVIDER_TIMEOUT and turn its failures into pages."""
    settings = current_settings()
    try:
        async with asyncio.timeout(settings.PROVIDER_TIMEOUT):
            yield
    except TimeoutError as error:
        raise AppError(
            504,
            f"The sign-in service at {settings.logto_endpoint} did not answer in time. "
            "Please try again.",
        ) from error
    except (aiohttp.ClientError, pydantic.ValidationError) as error:
        current_app.logger.warning("Identity provider unavailable: %s", describe(error))
        raise AppError(
            502,
            f"The sign-in service at {settings.logto_endpoint} (LOGTO_ENDPOINT) could not be "
            "reached. Please try again.",
        ) from error
    except ProviderMisconfigured as error:
        current_app.logger.error("Identity provider refused: %s", error.message)
        raise


def redirect_uri() -> str:
    """The callback URL registered with Logto."""
    return f"{current_settings().base_url}/callback"


def post_sign_out_uri() -> str:
    """Where Logto sends the browser after sign-out."""
    return f"{current_settings().base_url}/"


def current_user() -> dict[str, Any] | None:
    """The signed-in user's ID token claims (decoded once, at sign-in), or None."""
    if not sdk_client().isAuthenticated():
        return None
    claims = session.get(USER_KEY)
    if isinstance(claims, dict) and isinstance(claims.get("sub"), str):
        return claims
    return None


def is_authenticated() -> bool:
    """True when the session holds an ID token and its claims."""
    return current_user() is not None


async def sign_in_url(interaction_mode: InteractionMode | None, next_path: str) -> str:
    """Start a sign-in transaction (kept under its state) and return the URL to redirect to."""
    storage = SessionStorage()
    async with provider_call():
        url: str = await sdk_client().signIn(redirect_uri(), interaction_mode)
    sdk_session = storage.get("signInSession") or ""
    storage.delete("signInSession")  # kept in the transaction cookie instead (see transactions)
    state = SignInSession.model_validate_json(sdk_session).state
    nonce = secrets.token_urlsafe(32)  # the SDK sends none; the callback checks it
    transactions.remember(state, sdk_session, next_path, nonce)
    extra = {"nonce": nonce}
    if interaction_mode == "signUp":
        # Logto's current name for the first screen; interaction_mode is the older one.
        extra["first_screen"] = "register"
    return f"{url}&{urlencode(extra)}"


async def complete_sign_in(callback_url: str, state: str | None, iss: str | None) -> str:
    """Finish the sign-in whose `state` the callback carries; return where to go next.

    Raises a 400 AppError, before any token request, for a missing, unknown, replayed or
    foreign state and for an `iss` that is not our issuer (RFC 9207).
    """
    if not state:
        raise sign_in_failed("The sign-in response has no state.")
    transaction = transactions.take(state)
    if transaction is None:
        raise sign_in_failed(
            "This sign-in is unknown or expired: it may have been completed already, "
            "or started in another browser."
        )
    if iss is not None and iss != await issuer():
        raise sign_in_failed("The sign-in response comes from another issuer.")
    storage = SessionStorage()
    storage.set("signInSession", transaction.sdk_session)
    try:
        async with provider_call():
            await sdk_client().handleSignInCallback(callback_url)
    except LogtoException as error:
        raise sign_in_failed(str(error)) from error
    except jwt.PyJWTError as error:
        raise sign_in_failed(f"The ID token failed verification ({error}).") from error
    finally:
        storage.delete("signInSession")
    claims = sdk_client().getIdTokenClaims().model_dump(exclude_none=True)
    if not hmac.compare_digest(str(claims.get("nonce", "")), transaction.nonce):
        forget_tokens()
        raise sign_in_failed("The ID token was not issued for this sign-in (its nonce differs).")
    remember_user(sdk_client())
    regenerate_session_id()
    return transaction.next


def forget_tokens() -> None:
    """Drop every token and claim of the current session, keeping nothing of the user."""
    for key in [key for key in session if key.startswith(KEY_PREFIX) or key == USER_KEY]:
        session.pop(key, None)


async def issuer() -> str:
    """The provider's issuer, from its (cached) discovery document."""
    async with provider_call():
        core = await sdk_client().getOidcCore()
    value: str = core.metadata.issuer
    return value


def sign_in_failed(reason: str) -> AppError:
    """The 400 page for a failed or tampered callback."""
    return AppError(400, reason, title="Sign-in failed", offer_sign_in=True)


async def sign_out_url() -> str | None:
    """Revoke the refresh token, forget the tokens, and return Logto's end-session URL.

    The URL carries `id_token_hint`, `client_id` and `post_logout_redirect_uri`; it is None
    when Logto cannot be reached, and the local sign-out completes all the same.
    """
    client = sdk_client()
    id_token, refresh_token = client.getIdToken(), client.getRefreshToken()
    try:
        async with provider_call():
            if refresh_token is not None:
                await tokens.revoke(client, refresh_token)
            url: str = await client.signOut(post_sign_out_uri())
    except (AppError, LogtoException) as error:
        current_app.logger.warning("Signing out locally only: %s", error)
        return None
    finally:
        forget_tokens()
    return f"{url}&{urlencode({'id_token_hint': id_token})}" if id_token else url


async def fetch_user_info() -> dict[str, Any]:
    """The user's claims from Logto's userinfo endpoint, refreshing the access token if needed.

    A refresh that Logto refuses (grant revoked or expired) signs the user out locally. The
    answer keeps Logto's extra claims (organization_data, created_at, ...).
    """
    client = sdk_client()
    async with provider_call():
        token = await tokens.access_token(client)
        try:
            info = await (await client.getOidcCore()).fetchUserInfo(token)
        except LogtoException as error:
            raise tokens.signed_out(f"userinfo refused the access token: {error}") from error
    user = current_user()
    if user is None or info.sub != user["sub"]:
        current_app.logger.warning("Refusing a userinfo answer about another subject")
        raise AppError(502, "The sign-in service answered with another user's details.")
    result: dict[str, Any] = info.model_dump(exclude_none=True)
    return result
