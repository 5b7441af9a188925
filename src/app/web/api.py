"""This app's own API, protected by Logto access tokens, and the guard that protects it.

Protect any route in one line::

    @blueprint.get("/reports")
    @require_access_token("read:reports")
    async def reports() -> ResponseReturnValue:
        return {"for": access_token_claims()["sub"]}

The guard verifies a JWT access token that Logto issued for API_RESOURCE (signature from
the provider's cached keys, iss, aud, exp, nbf, an asymmetric algorithm the provider
announces, `typ` at+jwt), answers 401 with `WWW-Authenticate: Bearer` otherwise and 403
`insufficient_scope` when a required scope is missing. No session is read or written
under /api/: the sessions store skips this blueprint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, ParamSpec

import aiohttp
import jwt
from quart import Blueprint, current_app, g, request
from quart.typing import ResponseReturnValue

from app.config import current_settings
from app.errors import AppError
from app.oidc import flows

blueprint = Blueprint("api", __name__, url_prefix="/api")

P = ParamSpec("P")
CLAIMS = "access_token_claims"


def bearer_error(status: int, code: str | None, description: str, **params: str) -> AppError:
    """A JSON error with the RFC 6750 `WWW-Authenticate: Bearer` challenge."""
    challenge = {"realm": current_settings().API_RESOURCE or "api", **params}
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


async def verified_claims(audience: str) -> dict[str, Any]:
    """The claims of the request's bearer token for `audience`; a bearer AppError if none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise bearer_error(401, None, "An access token is required (Authorization: Bearer).")
    try:
        async with asyncio.timeout(current_settings().PROVIDER_TIMEOUT):
            core = await flows.sdk_client().getOidcCore()
            claims: dict[str, Any] = await core.verify(
                token.strip(), core.expect_access_token(audience)
            )
            return claims
    except jwt.PyJWTError as error:
        raise bearer_error(
            401, "invalid_token", f"The access token is not valid: {error}"
        ) from error
    except (TimeoutError, aiohttp.ClientError, AppError) as error:
        current_app.logger.warning("Cannot verify access tokens now: %s", error)
        raise AppError(
            503,
            "The identity provider's keys cannot be fetched right now.",
            code="temporarily_unavailable",
            retry_after=5,
        ) from error


def require_access_token(
    *scopes: str, audience: str | None = None
) -> Callable[
    [Callable[P, Awaitable[ResponseReturnValue]]], Callable[P, Awaitable[ResponseReturnValue]]
]:
    """Let a request through only with a valid access token for `audience` (API_RESOURCE by
    default) that grants every one of `scopes`."""

    def decorate(
        view: Callable[P, Awaitable[ResponseReturnValue]],
    ) -> Callable[P, Awaitable[ResponseReturnValue]]:
        @wraps(view)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            resource = audience or current_settings().API_RESOURCE
            if not resource:
                raise AppError(404, "This app has no API (API_RESOURCE is not set).")
            claims = await verified_claims(resource)
            if missing := [scope for scope in scopes if scope not in scopes_of(claims)]:
                raise bearer_error(
                    403,
                    "insufficient_scope",
                    f"The access token lacks the scope {' '.join(missing)}.",
                    scope=" ".join(scopes),
                )
            setattr(g, CLAIMS, claims)
            return await view(*args, **kwargs)

        return guarded

    return decorate


def access_token_claims() -> dict[str, Any]:
    """The verified claims of the current request's access token (inside a guarded view)."""
    claims: dict[str, Any] = getattr(g, CLAIMS)
    return claims


@blueprint.get("/me")
@require_access_token()
async def me() -> ResponseReturnValue:
    """Who the access token was issued to, with its scopes and client."""
    claims = access_token_claims()
    return {"sub": claims["sub"], "scope": scopes_of(claims), "client_id": claims.get("client_id")}
