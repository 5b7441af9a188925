"""OpenID relying-party duties the SDK leaves to the app: nonce, userinfo subject, sign-out."""

from __future__ import annotations

import html
import logging
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from app.sessions.data import sdk_value
from app.sessions.store import SessionStore
from devstack import LocalIdp
from tests.auth_actions import AuthActions
from tests.conftest import CLIENT_ID
from tests.home_page import is_signed_out
from tests.hostile_provider import REVOCATION, HostileProvider, sign_in
from tests.in_process_sign_in import sign_in_in_process
from tests.metrics_scrape import counted
from tests.provider_calls import refresh, refresh_refused
from tests.storage_routes import session_cookie
from tests.stored_session import stored, stored_refresh_token


def query_of(url: str) -> dict[str, str]:
    """The single-valued query parameters of `url`."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def post_sign_out(client: QuartClient) -> tuple[int, str]:
    """Post the home page's sign-out form; the status and the Location."""
    home = await (await client.get("/")).get_data(as_text=True)
    token = home.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post("/sign-out", form={"csrf_token": token})
    return response.status_code, response.headers.get("Location", "")


async def test_each_authorization_request_carries_a_fresh_nonce(idp_app: Quart) -> None:
    client = idp_app.test_client()
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
    idp_app: Quart,
    idp: LocalIdp,
    app_ports: list[int],
    http: aiohttp.ClientSession,
    store: SessionStore,
) -> None:
    client = idp_app.test_client()
    assert (await sign_in_in_process(client, http, "hinted-hana")).status_code == 302
    issued = await stored(store, session_cookie(client))
    id_token, refresh_token = sdk_value(issued.data, "idToken"), issued.refresh_token
    assert id_token and refresh_token
    revocations = counted("provider_requests_total", endpoint="revocation", result="ok")
    status, location = await post_sign_out(client)
    assert status == 302
    assert location.startswith(f"{idp.issuer}/session/end?")
    assert query_of(location) == {
        "client_id": CLIENT_ID,
        "post_logout_redirect_uri": f"http://127.0.0.1:{app_ports[0]}/",
        "id_token_hint": id_token,
    }
    assert counted("provider_requests_total", endpoint="revocation", result="ok") == (
        revocations + 1
    ), "one revocation, accepted"
    assert await refresh_refused(idp, refresh_token), "the provider no longer honours it"
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
    answer = await refresh(idp, refresh_token)
    assert answer.status == 400
    assert answer.body["error"] == "invalid_grant"
