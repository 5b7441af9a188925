"""Calls a test makes to the real local provider as the app's client (client_secret_post)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from devstack import LocalIdp
from tests.conftest import CLIENT_ID, CLIENT_SECRET


@dataclass
class ProviderAnswer:
    """The provider's status and JSON answer."""

    status: int
    body: dict[str, Any]


async def provider_post(idp: LocalIdp, path: str, **form: str) -> ProviderAnswer:
    """POST `form` to the provider's /oidc`path` with the app's client credentials."""
    credentials = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{idp.issuer}{path}", data={**credentials, **form}) as response,
    ):
        text = await response.text()
        body = json.loads(text) if text.strip().startswith("{") else {"text": text}
        return ProviderAnswer(response.status, body)


async def refresh(idp: LocalIdp, refresh_token: str) -> ProviderAnswer:
    """The provider's answer to a refresh grant of `refresh_token`."""
    return await provider_post(
        idp, "/token", grant_type="refresh_token", refresh_token=refresh_token
    )


async def refresh_refused(idp: LocalIdp, refresh_token: str) -> bool:
    """True when the provider refuses `refresh_token` as an invalid grant."""
    answer = await refresh(idp, refresh_token)
    return answer.status == 400 and answer.body.get("error") == "invalid_grant"


async def revoke(idp: LocalIdp, refresh_token: str) -> ProviderAnswer:
    """Revoke `refresh_token` at the provider (RFC 7009), as Logto does when a grant ends."""
    return await provider_post(
        idp, "/token/revocation", token=refresh_token, token_type_hint="refresh_token"
    )
