"""The authorization request: the SDK's parameters plus Logto's, sent plainly or pushed (PAR).

The released SDK builds the URL with the standard parameters (client_id, redirect_uri,
response_type, scope, resource, prompt, PKCE, state, interaction_mode); the rest are added
here: the nonce, Logto's first_screen, direct_sign_in and login_hint, and max_age, so that
every ID token carries auth_time. With LOGTO_PAR, all of them are posted to the provider's
pushed authorization request endpoint (RFC 9126) and the browser gets only client_id and
request_uri.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from logto import InteractionMode

from app.config import Settings
from app.errors import AppError
from app.oidc.parts import Parts
from app.oidc.provider import ProviderRefused

MAX_LOGIN_HINT = 254  # an email address's longest; Logto pre-fills the identifier with it
# A re-authentication asks for a new sign-in (login) and still for consent: oidc-provider
# grants offline_access (the refresh token) only with prompt=consent.
REAUTHENTICATION_PROMPT = "login consent"


@dataclass(frozen=True)
class SignInOptions:
    """What a sign-in asks of Logto beyond the SDK's parameters (checked values only)."""

    direct_sign_in: str | None = None  # `method:target`, an entry of LOGTO_DIRECT_SIGN_IN
    login_hint: str | None = None
    reauthenticate: bool = False

    @classmethod
    def checked(
        cls,
        settings: Settings,
        *,
        direct_sign_in: str | None,
        login_hint: str | None,
        reauthenticate: bool,
    ) -> SignInOptions:
        """The options from untrusted values; a 400 AppError for one the app does not offer."""
        return cls(
            checked_direct_sign_in(settings, direct_sign_in),
            checked_login_hint(login_hint),
            reauthenticate,
        )


def checked_direct_sign_in(settings: Settings, value: str | None) -> str | None:
    """`value` if it is an entry of LOGTO_DIRECT_SIGN_IN; None for none; else a 400."""
    if value is None:
        return None
    if settings.direct_sign_in_entry(value) is None:
        raise AppError(
            400,
            "This sign-in option is not offered here. Please choose one on the home page.",
            title="Unknown sign-in option",
        )
    return value


def checked_login_hint(value: str | None) -> str | None:
    """`value` if it is a usable login hint (None or "" for none); else a 400."""
    if not value:
        return None
    if len(value) > MAX_LOGIN_HINT:
        raise AppError(400, f"The login hint is too long (at most {MAX_LOGIN_HINT} characters).")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise AppError(400, "The login hint must not contain control characters.")
    return value


def extra_parameters(
    settings: Settings,
    interaction_mode: InteractionMode | None,
    nonce: str,
    options: SignInOptions,
) -> dict[str, str]:
    """The parameters this app adds to the SDK's (or puts in place of them: prompt)."""
    extra = {"nonce": nonce}
    if interaction_mode == "signUp":
        # Logto's current name for the first screen; interaction_mode is the older one.
        extra["first_screen"] = "register"
    if options.direct_sign_in:
        extra["direct_sign_in"] = options.direct_sign_in
    if options.login_hint:
        extra["login_hint"] = options.login_hint
    if options.reauthenticate:
        extra["prompt"] = REAUTHENTICATION_PROMPT
        extra["max_age"] = str(settings.REAUTH_MAX_AGE)
    else:
        # With max_age, Logto puts auth_time in the ID token; the session's lifetime asks for
        # nothing more than a session already allows.
        extra["max_age"] = str(settings.SESSION_LIFETIME)
    return extra


def authorization_request(sdk_url: str, extra: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    """The authorization endpoint and every parameter: the SDK's URL's, with `extra` added
    (replacing a parameter of the same name)."""
    endpoint, _, query = sdk_url.partition("?")
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in extra]
    return endpoint, [*params, *extra.items()]


async def authorization_url(parts: Parts, endpoint: str, params: list[tuple[str, str]]) -> str:
    """Where to send the browser: every parameter in the URL, or (LOGTO_PAR, when the provider
    announces it) only client_id and the request_uri of the pushed request."""
    par_endpoint = await pushed_authorization_endpoint(parts) if parts.settings.LOGTO_PAR else None
    if par_endpoint is None:
        return f"{endpoint}?{urlencode(params)}"
    form = [*params, ("client_secret", parts.settings.logto_app_secret)]  # client_secret_post
    try:
        request_uri = await parts.http.push_authorization(par_endpoint, form)
    except ProviderRefused as refusal:
        raise AppError(
            502,
            f"The sign-in service at {parts.settings.logto_endpoint} refused the sign-in request "
            f"({refusal.code or refusal.status}). Please try again later.",
        ) from refusal
    query = urlencode({"client_id": parts.settings.logto_app_id, "request_uri": request_uri})
    return f"{endpoint}?{query}"


async def pushed_authorization_endpoint(parts: Parts) -> str | None:
    """The provider's pushed authorization request endpoint, if its discovery announces one."""
    core = await parts.client.getOidcCore()
    url = getattr(core.metadata, "pushed_authorization_request_endpoint", None)
    return url if isinstance(url, str) and url else None
