"""OpenID relying-party duties the SDK leaves to the app: nonce, userinfo subject, sign-out."""

from __future__ import annotations

import html
import logging
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from app.sessions.store import SessionStore
from devstack import LocalIdp
from tests.auth_actions import AuthActions
from tests.conftest import CLIENT_ID, CLIENT_SECRET
from tests.home_page import is_signed_out
from tests.hostile_provider import (
    REVOCATION,
    HostileProvider,
    sign_in,
)
from tests.stored_session import stored_refresh_token


def query_of(url: str) -> dict[str, str]:
    """The single-valued query parameters of `url`."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def post_sign_out(client: QuartClient) -> tuple[int, str]:
    """Post the home page's sign-out form; the status and the Location."""
    home = await (await client.get("/")).get_data(as_text=True)
    token = home.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post("/sign-out", form={"csrf_token": token})
    return response.status_code, response.headers.get("Location", "")


async def test_each_authorization_request_carries_a_fresh_nonce(hostile_app: Quart) -> None:
    client = hostile_app.test_client()
    nonces = [query_of((await client.get("/sign-in")).headers["Location"])["nonce"] for _ in "ab"]
    assert nonces[0] != nonces[1]
    assert all(len(nonce) >= 43 for nonce in nonces), "256 random bits"


@pytest.mark.parametrize("nonce", [None, "a-nonce-of-another-sign-in"], ids=["missing", "other"])
async def test_id_token_without_this_sign_ins_nonce_is_refused(
    hostile_app: Quart, hostile: HostileProvider, nonce: str | None
) -> None:
    hostile.id_token = lambda provider: provider.sign(nonce=nonce)
    client = hostile_app.test_client()
    status, body = await sign_in(client, hostile)
    assert status == 400, body
    assert "nonce" in html.unescape(body) and "Traceback" not in body
    assert await is_signed_out(client)


async def test_userinfo_about_another_user_is_refused(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    assert (await sign_in(client, hostile))[0] == 302
    hostile.user_info = {"sub": "someone-else", "name": "Mallory Other", "email": "m@evil.test"}
    response = await client.get("/profile")
    text = html.unescape(await response.get_data(as_text=True))
    assert response.status_code == 200
    assert "another user" in text and 'id="user-info-error"' in text
    assert "Mallory Other" not in text and "m@evil.test" not in text
    assert "Hostile Tester" in text, "the signed-in user's own claims still show"


async def test_sign_out_revokes_the_refresh_token_and_hints_the_id_token(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    assert (await sign_in(client, hostile))[0] == 302
    issued = hostile.last_tokens
    status, location = await post_sign_out(client)
    assert status == 302
    assert location.startswith(f"{hostile.issuer}/session/end?")
    assert query_of(location) == {
        "client_id": "hostile-test-app",
        "post_logout_redirect_uri": "http://localhost:3000/",
        "id_token_hint": issued["id_token"],
    }
    assert [(form["token"], form["token_type_hint"]) for form in hostile.revoked] == [
        (issued["refresh_token"], "refresh_token")
    ]
    assert await is_signed_out(client)


async def test_sign_out_completes_locally_when_revocation_fails(
    hostile_app: Quart, hostile: HostileProvider, caplog: pytest.LogCaptureFixture
) -> None:
    client = hostile_app.test_client()
    assert (await sign_in(client, hostile))[0] == 302
    hostile.failing = {REVOCATION}
    with caplog.at_level(logging.WARNING):
        status, location = await post_sign_out(client)
    assert status == 302 and "/session/end?" in location
    assert await is_signed_out(client)
    assert any("revoke" in record.getMessage() for record in caplog.records)


async def test_the_provider_refuses_the_refresh_token_after_sign_out(
    auth: AuthActions, idp: LocalIdp, store: SessionStore
) -> None:
    await auth.sign_in("revoked-ruth")
    refresh_token = await stored_refresh_token(store, auth.session_id() or "")
    await auth.sign_out()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    async with (
        aiohttp.ClientSession() as provider,
        provider.post(f"{idp.issuer}/token", data=form) as response,
    ):
        answer = await response.json()
    assert response.status == 400
    assert answer["error"] == "invalid_grant"
