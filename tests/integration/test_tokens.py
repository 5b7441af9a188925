"""API and organization tokens through the real provider: /call-api, /organizations, refresh."""

from __future__ import annotations

import asyncio
import hashlib
import html
from collections.abc import Iterator

import aiohttp
import pytest
from quart import Quart

from app.sessions.store import SessionStore
from app.testing import signed_in
from devstack import AppServer, LocalIdp, free_port
from tests.auth_actions import AuthActions
from tests.conftest import API_RESOURCE, LOGTO_SCOPES, provider_for, server_settings
from tests.home_page import is_signed_in, signed_in_as, signed_out_on
from tests.hostile_provider import HostileProvider, serving_app, sign_in
from tests.in_process_sign_in import in_process_settings, serving_in_process, sign_in_in_process
from tests.provider_calls import revoke
from tests.stored_session import stored_refresh_token

# A token of 6 s is kept for 5 s (a tenth of its life early, at least 1 s): the SDK's own
# 60 s margin would never reuse it.
ACCESS_TOKEN_TTL = 6
USABLE_FOR = ACCESS_TOKEN_TTL - 1


async def refresh_grants(idp: LocalIdp, http: aiohttp.ClientSession) -> int:
    """Successful refresh grants the provider has answered so far."""
    async with http.get(idp.stats_url) as response:
        return int((await response.json())["refresh_token_grants"])


@pytest.fixture(scope="module")
def racing_stack(redis_url: str) -> Iterator[tuple[LocalIdp, AppServer]]:
    """A provider whose access tokens expire soon, and an app with two workers."""
    port = free_port()
    with provider_for([port], access_token_ttl=ACCESS_TOKEN_TTL) as idp:
        settings = server_settings(idp, redis_url, port)
        with AppServer(settings, port=port, workers=2) as server:
            yield idp, server


async def test_call_api_answers_with_the_users_sub(auth: AuthActions) -> None:
    await auth.sign_in("caller")
    page = await auth.get("/call-api")
    text = html.unescape(page.text)
    assert page.status == 200
    assert 'id="api-status">200<' in text
    subject = "user_" + hashlib.sha256(b"caller").hexdigest()[:12]  # the provider's id for it
    assert f'"sub": "{subject}"' in text and "read:profile" in text


async def test_racing_requests_on_two_workers_refresh_once_per_expiry(
    racing_stack: tuple[LocalIdp, AppServer], http: aiohttp.ClientSession
) -> None:
    idp, server = racing_stack
    browser = AuthActions(server.url, http)
    await browser.sign_in("racer")
    counts = []
    for _ in range(2):  # the first API token, then its replacement once it expired
        before = await refresh_grants(idp, http)
        pages = await asyncio.gather(*(browser.get("/call-api") for _ in range(10)))
        assert [page.status for page in pages] == [200] * 10
        assert all('id="api-status">200<' in page.text for page in pages)
        counts.append(await refresh_grants(idp, http) - before)
        await asyncio.sleep(USABLE_FOR + 1)
    print(f"\nrefreshes at the provider per race of 10 requests on 2 workers: {counts}")
    assert counts == [1, 1]


async def test_a_refused_refresh_signs_out(
    auth: AuthActions, idp: LocalIdp, store: SessionStore
) -> None:
    await auth.sign_in("refused")
    refresh_token = await stored_refresh_token(store, auth.session_id() or "")
    assert (await revoke(idp, refresh_token)).status == 200
    page = await auth.get("/call-api")  # needs a refresh: no API token yet
    assert page.status == 401 and "Sign in again" in page.text
    assert signed_out_on(await auth.get("/"))


async def test_organizations_list_both_with_roles_and_token_permissions(
    auth: AuthActions,
) -> None:
    await auth.sign_in("member")
    page = await auth.get("/organizations")
    assert page.status == 200
    acme = page.text.split('id="org-org_acme"')[1].split("</section>")[0]
    globex = page.text.split('id="org-org_globex"')[1].split("</section>")[0]
    assert "<h2>Acme</h2>" in acme and '<dd class="roles">admin</dd>' in acme
    for permission in ("read:billing", "manage:billing", "invite:member"):
        assert f"<code>{permission}</code>" in acme
    assert "<h2>Globex</h2>" in globex and '<dd class="roles">member</dd>' in globex
    assert "<code>read:billing</code>" in globex and "manage:billing" not in globex


async def test_a_resource_logto_will_not_grant_is_explained_and_keeps_the_user(
    redis_url: str, hostile: HostileProvider
) -> None:
    hostile.refused_resources = {"https://api.example.test"}
    async with serving_app(hostile, redis_url, API_RESOURCE="https://api.example.test") as app:
        client = app.test_client()
        assert (await sign_in(client, hostile))[0] == 302
        response = await client.get("/call-api")
        text = html.unescape(await response.get_data(as_text=True))
        assert response.status_code == 200
        assert 'id="api-problem"' in text and "resource not granted" in text
        assert await is_signed_in(client)


async def test_an_api_that_is_down_is_explained(
    redis_url: str, idp: LocalIdp, app_ports: list[int], http: aiohttp.ClientSession
) -> None:
    down = f"http://127.0.0.1:{free_port()}/api/me"
    settings = in_process_settings(
        idp,
        redis_url,
        app_ports,
        API_RESOURCE=API_RESOURCE,
        LOGTO_SCOPES=LOGTO_SCOPES,
        API_URL=down,
    )
    async with serving_in_process(settings) as app:
        client = app.test_client()
        assert (await sign_in_in_process(client, http, "api-down")).status_code == 302
        response = await client.get("/call-api")
        text = html.unescape(await response.get_data(as_text=True))
        assert response.status_code == 200, text
        assert 'id="api-problem"' in text and "could not be reached" in text
        assert await signed_in_as(client) == "Api-down", "the user stays signed in"


async def test_organizations_explain_how_to_turn_them_on(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="no-orgs") as client:  # the default scopes: no organizations
        response = await client.get("/organizations")
        text = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="organizations-off"' in text and "urn:logto:scope:organizations" in text


async def test_call_api_without_an_api_is_a_404_page(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="no-api") as client:  # no API_RESOURCE
        response = await client.get("/call-api")
    assert response.status_code == 404
    assert "API_RESOURCE" in await response.get_data(as_text=True)
