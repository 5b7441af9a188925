"""Using what the user signed in for: their API token on an API, their organizations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import jwt

from app.config import ORGANIZATIONS_SCOPE
from app.oidc import tokens
from app.oidc.bearer import scopes_of
from app.oidc.parts import Parts
from app.oidc.provider import describe

MAX_ANSWER = 64 * 1024  # bytes of an API answer shown on the page


@dataclass(frozen=True)
class ApiAnswer:
    """What the API said to a call with the user's token (or why no call was made)."""

    url: str
    status: int | None = None
    body: str = ""
    scopes: list[str] = field(default_factory=list)
    problem: str | None = None


@dataclass(frozen=True)
class Organization:
    """One of the user's Logto organizations, with its roles and its token's permissions."""

    id: str
    name: str
    description: str = ""
    roles: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    problem: str | None = None


def token_scopes(token: str) -> list[str]:
    """The scopes of a token Logto just gave us (read for display; the API verifies it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return []
    return scopes_of(claims)


async def call_api(parts: Parts) -> ApiAnswer:
    """Call API_URL with an access token for API_RESOURCE (refreshed if needed)."""
    url, resource = parts.settings.api_url, parts.settings.API_RESOURCE or ""
    try:
        async with parts.http.call():
            token = await tokens.access_token(parts, resource)
    except tokens.TokenUnavailable as error:
        return ApiAnswer(url, problem=f"Logto gave no access token for {resource}: {error.message}")
    try:
        status, body = await parts.http.api_get(url, token, MAX_ANSWER)
    except (TimeoutError, aiohttp.ClientError) as error:
        return ApiAnswer(url, problem=f"The API could not be reached ({describe(error)}).")
    return ApiAnswer(url, status, pretty(body), token_scopes(token))


def pretty(body: str) -> str:
    """JSON indented for reading; anything else as it came."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def organizations_requested(parts: Parts) -> bool:
    """True when sign-in asks for Logto's organizations scope."""
    return ORGANIZATIONS_SCOPE in parts.settings.scopes


async def organizations(
    parts: Parts, user: dict[str, Any], user_info: dict[str, Any]
) -> list[Organization]:
    """The organizations of the `user` claims (named by userinfo), each with the permissions
    of its organization token, fetched now."""
    ids = [item for item in user.get("organizations", []) if isinstance(item, str)]
    roles = [item for item in user.get("organization_roles", []) if isinstance(item, str)]
    details = {
        item["id"]: item
        for item in user_info.get("organization_data", [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
    found = []
    for org_id in ids:
        detail = details.get(org_id, {})
        found.append(
            await _with_permissions(
                parts,
                Organization(
                    id=org_id,
                    name=str(detail.get("name") or org_id),
                    description=str(detail.get("description") or ""),
                    roles=[
                        role.split(":", 1)[1] for role in roles if role.startswith(f"{org_id}:")
                    ],
                ),
            )
        )
    return found


async def _with_permissions(parts: Parts, organization: Organization) -> Organization:
    try:
        async with parts.http.call():
            token = await tokens.organization_token(parts, organization.id)
    except tokens.TokenUnavailable as error:
        return replace(organization, problem=error.message)
    return replace(organization, permissions=token_scopes(token))
