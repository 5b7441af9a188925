"""Bearer tokens (RFC 6750): reading the header, the 401/403 challenge, and the API guard.

Protect any route in one line::

    @blueprint.get("/reports")
    @require_access_token("read:reports")
    async def reports() -> ResponseReturnValue:
        return {"for": g.access_token_claims["sub"]}

The guard verifies a JWT access token that Logto issued for API_RESOURCE (signature from
the provider's cached keys, iss, aud, exp, nbf, an asymmetric algorithm the provider
announces, `typ` at+jwt), answers 401 with `WWW-Authenticate: Bearer` otherwise and 403
`insufficient_scope` when a required scope is missing. Organization tokens (with
`organization_id`) pass only routes that opt in with `organization=True`, which find the id
in `g.access_token_organization`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec

import aiohttp
import jwt
from quart import g, request
from quart.typing import ResponseReturnValue

from app.errors import AppError
from app.oidc.parts import Parts

P = ParamSpec("P")
View = Callable[P, Awaitable[ResponseReturnValue]]
CLAIMS = "access_token_claims"
ORGANIZATION = "access_token_organization"  # the organization id, on routes that opt in
ORGANIZATION_CLAIM = "organization_id"  # set by Logto on organization-level API tokens
logger = logging.getLogger("app.bearer")


def presented_token() -> str | None:
    """The bearer token of the current request's Authorization header, if it sent one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def bearer_error(
    status: int, code: str | None, description: str, *, realm: str, **params: str
) -> AppError:
    """A JSON error with the RFC 6750 `WWW-Authenticate: Bearer` challenge (no `error` in it
    when no token was sent: `code` None)."""
    challenge = {"realm": realm, **params}
    if code is not None:
        challenge |= {"error": code, "error_description": description}
    header = ", ".join(f'{name}="{_quotable(value)}"' for name, value in challenge.items())
    return AppError(
        status,
        description,
        code=code or "missing_token",
        headers={"WWW-Authenticate": f"Bearer {header}"},
    )


def _quotable(value: str) -> str:
    return "".join(char for char in value if char.isprintable() and char not in '"\\')[:200]


def scopes_of(claims: dict[str, Any]) -> list[str]:
    """The scopes a token grants (its space-separated `scope` claim)."""
    scope = claims.get("scope", "")
    return scope.split() if isinstance(scope, str) else []


async def verified_claims(parts: Parts, audience: str) -> dict[str, Any]:
    """The claims of the request's bearer token for `audience`; a bearer AppError if none."""
    realm = parts.settings.API_RESOURCE or "api"
    token = presented_token()
    if token is None:
        raise bearer_error(
            401, None, "An access token is required (Authorization: Bearer).", realm=realm
        )
    try:
        async with asyncio.timeout(parts.settings.PROVIDER_TIMEOUT):
            core = await parts.client.getOidcCore()
            claims: dict[str, Any] = await core.verify(token, core.expect_access_token(audience))
            return claims
    except jwt.PyJWTError as error:
        raise bearer_error(
            401, "invalid_token", f"The access token is not valid: {error}", realm=realm
        ) from error
    except (TimeoutError, aiohttp.ClientError, AppError) as error:
        logger.warning("Cannot verify access tokens now: %s", error)
        raise AppError(
            503,
            "The identity provider's keys cannot be fetched right now.",
            code="temporarily_unavailable",
            retry_after=5,
        ) from error


def check_organization(claims: dict[str, Any], *, organization: bool, realm: str) -> str | None:
    """The token's organization id; a 401 when it has one and the route takes user tokens,
    or has none and the route takes organization tokens.

    Logto issues API tokens for an organization role (organization-level API resources) with
    the same audience and scopes as user-level ones, plus `organization_id`: a permission held
    only in one organization must not pass a route meant for the tenant-wide permission.
    """
    found = claims.get(ORGANIZATION_CLAIM)
    if found is not None and not (isinstance(found, str) and found):
        raise bearer_error(
            401, "invalid_token", "The token's organization_id is malformed.", realm=realm
        )
    if found and not organization:
        raise bearer_error(
            401,
            "invalid_token",
            "This route takes user tokens, not an organization token (organization_id).",
            realm=realm,
        )
    if organization and not found:
        raise bearer_error(
            401, "invalid_token", "This route takes organization tokens only.", realm=realm
        )
    return found or None


def guard_access_token(
    parts_of: Callable[[], Parts],
    scopes: tuple[str, ...],
    audience: str | None,
    *,
    organization: bool = False,
) -> Callable[[View[P]], View[P]]:
    """The decorator behind `require_access_token` (the parts are looked up per request)."""

    def decorate(view: View[P]) -> View[P]:
        @wraps(view)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            parts = parts_of()
            resource = audience or parts.settings.API_RESOURCE
            if not resource:
                raise AppError(404, "This app has no API (API_RESOURCE is not set).")
            claims = await verified_claims(parts, resource)
            realm = parts.settings.API_RESOURCE or "api"
            organization_id = check_organization(claims, organization=organization, realm=realm)
            if missing := [scope for scope in scopes if scope not in scopes_of(claims)]:
                raise bearer_error(
                    403,
                    "insufficient_scope",
                    f"The access token lacks the scope {' '.join(missing)}.",
                    realm=realm,
                    scope=" ".join(scopes),
                )
            setattr(g, CLAIMS, claims)
            setattr(g, ORGANIZATION, organization_id)
            return await view(*args, **kwargs)

        return guarded

    return decorate


def access_token_claims() -> dict[str, Any]:
    """The verified claims of the current request's access token (inside a guarded view)."""
    claims: dict[str, Any] = getattr(g, CLAIMS)
    return claims
