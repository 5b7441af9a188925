"""A refreshed ID token must be the same user (OpenID Connect Core 12.2); the index follows sid.

The hostile provider issues the refreshed ID tokens: the local provider would never issue one
about another user.
"""

from __future__ import annotations

import secrets

import pytest
from quart import Quart

from tests.home_page import is_signed_out, signed_in_as
from tests.hostile_provider import CLIENT_ID, HostileProvider, sign_in


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"sub": "someone-else"}, id="another-sub"),
        pytest.param({"aud": [CLIENT_ID, "another-app"]}, id="another-aud"),
    ],
)
async def test_a_refreshed_id_token_about_someone_else_signs_the_session_out(
    hostile_app: Quart, hostile: HostileProvider, changes: dict[str, object]
) -> None:
    client = hostile_app.test_client()
    hostile.expires_in = 0  # every access token is stale at once: /profile must refresh it
    status, body = await sign_in(client, hostile)
    assert status == 302, body
    hostile.id_token = lambda provider: provider.sign(**changes)
    profile = await client.get("/profile")
    assert profile.status_code == 401
    assert "sign-in has expired" in await profile.get_data(as_text=True)
    assert await is_signed_out(client)


async def test_a_refreshed_id_token_of_the_same_user_is_taken(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    hostile.expires_in = 0
    status, body = await sign_in(client, hostile)
    assert status == 302, body
    hostile.id_token = lambda provider: provider.sign(name="Renamed Tester")
    assert (await client.get("/profile")).status_code == 200
    assert await signed_in_as(client) == "Renamed Tester"


async def test_a_refresh_that_changes_sid_moves_the_session_in_the_index(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    hostile.expires_in = 0
    old_sid, new_sid = secrets.token_hex(8), secrets.token_hex(8)
    hostile.logto_sid = old_sid
    status, body = await sign_in(client, hostile)
    assert status == 302, body
    store = hostile_app.extensions["logto"].store
    assert len(await store.session_ids_of_logto_session(old_sid)) == 1
    hostile.logto_sid = new_sid
    assert (await client.get("/profile")).status_code == 200
    assert await store.session_ids_of_logto_session(old_sid) == []
    assert len(await store.session_ids_of_logto_session(new_sid)) == 1
