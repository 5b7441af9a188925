"""`LogtoAuth`: the one extension object, owning every part of Logto sign-in for an app.

The quart-auth pattern: `LogtoAuth(app)` or `LogtoAuth()` then `init_app(app)`, registered
once as `app.extensions["logto"]`. It creates the parts from the settings (SDK client,
provider pool, session store, pending-sign-in cookie), opens their resources before
serving and closes them after, and offers what pages need as methods (`app.auth.logto`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pydantic
from logto import InteractionMode
from quart import Quart, Response, current_app, session

from app.config import Settings, process_settings
from app.errors import redis_unavailable
from app.oidc import account, flows, logout, reauth, resources, tokens
from app.oidc.authorization import SignInOptions
from app.oidc.bearer import verified_claims
from app.oidc.parts import Parts
from app.oidc.provider import ProviderMisconfigured, describe
from app.oidc.user import current_user
from app.sessions import index
from app.sessions.data import created_of, set_user_agent
from app.sessions.store import ServerSession, SessionStore, StoredSession, session_id_of

EXTENSION = "logto"
logger = logging.getLogger("app.logto")


class LogtoAuth:
    """Logto sign-in for one Quart app: its parts, their lifecycle, and the pages' API."""

    parts: Parts

    def __init__(self, app: Quart | None = None, *, settings: Settings | None = None) -> None:
        self._settings = settings
        self.endpoint_check: asyncio.Task[None] | None = None  # the start-up discovery check
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Quart) -> None:
        """Create the parts, install the session store, register the serving hooks."""
        self.parts = Parts.create(self._settings or process_settings())
        self.parts.store.configure_cookie(app)
        app.session_interface = self.parts.store  # type: ignore[assignment] # Quart's is typed as its cookie one
        app.extensions[EXTENSION] = self
        app.before_serving(self._open)
        app.after_serving(self._close)
        app.before_request(self._refuse_without_store)
        app.after_request(self._write_sign_ins)

    @property
    def settings(self) -> Settings:
        """The settings the parts were made from."""
        return self.parts.settings

    @property
    def store(self) -> SessionStore:
        """The session store (Redis)."""
        return self.parts.store

    async def _open(self) -> None:
        await self.parts.http.start()
        await self.parts.store.open()
        # In the background: Logto may be briefly away, and start-up must not wait for it.
        self.endpoint_check = asyncio.create_task(self._check_endpoint())

    async def _close(self) -> None:
        if self.endpoint_check is not None:
            self.endpoint_check.cancel()
        await self.parts.store.close()
        await self.parts.http.close()

    async def _check_endpoint(self) -> None:
        """Fetch the discovery document once; log one line naming LOGTO_ENDPOINT if wrong, or
        if LOGTO_PAR is on and it announces no pushed authorization request endpoint."""
        endpoint = self.settings.logto_endpoint
        try:
            async with asyncio.timeout(self.settings.PROVIDER_TIMEOUT):
                core = await self.parts.client.getOidcCore()
        except ProviderMisconfigured as error:
            logger.error("LOGTO_ENDPOINT %s looks wrong: %s", endpoint, error.message)
        except (TimeoutError, aiohttp.ClientError, pydantic.ValidationError) as error:
            logger.error(
                "LOGTO_ENDPOINT %s is unreachable: its discovery document %s/oidc/.well-known/"
                "openid-configuration could not be read (%s)",
                endpoint,
                endpoint,
                describe(error),
            )
        else:
            par = getattr(core.metadata, "pushed_authorization_request_endpoint", None)
            if self.settings.LOGTO_PAR and not par:
                logger.warning(
                    "LOGTO_PAR is on, but LOGTO_ENDPOINT %s announces no "
                    "pushed_authorization_request_endpoint: sending plain authorization requests",
                    endpoint,
                )

    async def _refuse_without_store(self) -> None:
        if isinstance(session, ServerSession) and session.state.unavailable:
            raise redis_unavailable()

    async def _write_sign_ins(self, response: Response) -> Response:
        return await self.parts.sign_ins.write_back(response)

    # The current session

    def session_id(self) -> str:
        """The server-side id of the current request's session."""
        return session_id_of(session)

    def session_started(self) -> float | None:
        """When the current session began (its sign-in), in seconds since 1970."""
        return created_of(session)

    # Tokens and the user's details

    async def access_token(self, resource: str = "") -> str:
        """A valid access token for API `resource` ("" for userinfo), refreshed if expired."""
        return await tokens.access_token(self.parts, resource)

    async def organization_token(self, organization_id: str) -> str:
        """A valid organization token for `organization_id`, refreshed if expired."""
        return await tokens.organization_token(self.parts, organization_id)

    async def user_info(self) -> dict[str, Any]:
        """The user's claims from Logto's userinfo endpoint (the same user checked)."""
        return await flows.fetch_user_info(self.parts)

    async def update_profile(self, *, name: str) -> dict[str, Any]:
        """Change the signed-in user's name at Logto (Account API); the profile Logto answers.

        The session's claims show the new name at once. Raises ProfileRefused (nothing
        changed) for a name that is empty, over 128 characters or holds control characters,
        and for Logto's refusals (Account Center off, field not editable, invalid, 401).
        """
        return await account.update_profile(self.parts, name=name)

    def authenticated_recently(self, max_age: int | None = None) -> bool:
        """True when the user authenticated at Logto within `max_age` seconds (REAUTH_MAX_AGE
        by default), by the session's ID token auth_time; False when it is missing."""
        limit = self.settings.REAUTH_MAX_AGE if max_age is None else max_age
        return current_user.is_authenticated and reauth.is_recent(current_user.claims, limit)

    async def call_api(self) -> resources.ApiAnswer:
        """Call API_URL with an access token for API_RESOURCE and return what it said."""
        return await resources.call_api(self.parts)

    def organizations_requested(self) -> bool:
        """True when sign-in asks for Logto's organizations scope."""
        return resources.organizations_requested(self.parts)

    async def organizations(self, user_info: dict[str, Any]) -> list[resources.Organization]:
        """The signed-in user's organizations, with the permissions of each one's token."""
        claims = current_user.claims
        return await resources.organizations(self.parts, claims, user_info)

    async def verify_access_token(self, audience: str) -> dict[str, Any]:
        """The verified claims of the request's bearer token for `audience`."""
        return await verified_claims(self.parts, audience)

    # Signing in and out

    async def sign_in_url(
        self,
        next_path: str,
        *,
        sign_up: bool = False,
        direct_sign_in: str | None = None,
        login_hint: str | None = None,
        reauthenticate: bool = False,
    ) -> str:
        """Start a sign-in (or sign-up) and return Logto's URL to send the browser to.

        `direct_sign_in`: an entry of LOGTO_DIRECT_SIGN_IN (`social:azure-ad`), straight to
        that connector; `login_hint`: pre-fills Logto's identifier (at most 254 characters, no
        control characters); either one otherwise is a 400 AppError. `reauthenticate`: the
        signed-in user signs in again (prompt=login, max_age=REAUTH_MAX_AGE); the callback
        then accepts only that user with a recent auth_time.
        """
        mode: InteractionMode | None = "signUp" if sign_up else None
        options = SignInOptions.checked(
            self.settings,
            direct_sign_in=direct_sign_in,
            login_hint=login_hint,
            reauthenticate=reauthenticate,
        )
        return await flows.sign_in_url(self.parts, mode, next_path, options)

    async def complete_sign_in(
        self, callback_url: str, state: str | None, iss: str | None, user_agent: str
    ) -> str:
        """Finish the sign-in of this callback; return the path to go to next."""
        next_path = await flows.complete_sign_in(self.parts, callback_url, state, iss)
        set_user_agent(session, user_agent)
        if current_user.sub is not None:
            await logout.enforce_session_cap(self.parts, current_user.sub)
        return next_path

    async def sign_out(self) -> str | None:
        """Revoke and clear this session; Logto's end-session URL (None if Logto is away)."""
        url = await flows.sign_out_url(self.parts)
        session.clear()
        return url

    async def sign_out_everywhere(self) -> str | None:
        """End every other session of this user (all workers and hosts), then this one."""
        user = current_user
        if user.sub is not None:
            others = await logout.other_sessions(self.parts, user.sub, self.session_id())
            await logout.end_sessions(self.parts, [s.sid for s in others], sub=user.sub)
        return await self.sign_out()

    # The user's sessions

    async def sessions(self) -> list[StoredSession]:
        """The signed-in user's sessions in this app."""
        user = current_user
        return await self.store.sessions_of_user(user.sub) if user.sub else []

    def handle_of(self, stored: StoredSession) -> str:
        """The public name of a session (never its id) for the sessions page."""
        return index.handle_of(stored.sid, self.settings.secret_key)

    async def end_session(self, stored: StoredSession) -> None:
        """End another of the user's sessions and revoke its refresh token."""
        await logout.end_sessions(self.parts, [stored.sid], sub=current_user.sub)

    async def backchannel_logout(self, logout_token: str) -> int | None:
        """End the sessions a valid logout token names; None when its jti was used before.

        Raises a jwt error for a token that is not valid, and TimeoutError, an aiohttp
        ClientError or an AppError when it cannot be checked now.
        """
        claims = await logout.verify_logout_token(self.parts, logout_token)
        if not await logout.first_use(self.parts, claims["jti"]):
            return None
        sids = await logout.sessions_for_logout(self.parts, claims)
        return await logout.end_sessions(self.parts, sids, sub=claims.get("sub"))


def current_auth() -> LogtoAuth:
    """The LogtoAuth of the app serving the current request."""
    auth: LogtoAuth = current_app.extensions[EXTENSION]
    return auth
