"""Sensitive actions need a recent authentication: fresh_login_required, re-authentication
through the real local provider (prompt=login, max_age, auth_time), and its refusals."""

from __future__ import annotations

import html
import time
from collections.abc import AsyncIterator
from urllib.parse import urljoin

import aiohttp
import pytest
from quart import Blueprint, Quart
from quart.typing import ResponseReturnValue
from quart.typing import TestClientProtocol as QuartClient

from app.auth import current_user, fresh_login_required
from app.oidc.provider import ProviderHttp
from app.sessions.data import claims_of
from app.testing import signed_in
from devstack import LocalIdp
from tests.auth_actions import forms_of
from tests.home_page import signed_in_as
from tests.hostile_provider import HostileProvider
from tests.in_process_sign_in import back_to_the_app, sign_in_in_process
from tests.local_app import (
    auth_of,
    csrf_token_of,
    local_app,
    query_of,
    session_id,
    single_query,
    stored,
)

OLD = "3600"  # the local provider's auth_age: this sign-in happened an hour ago
REAUTH_MAX_AGE = 600  # the default


@pytest.fixture
def actions() -> list[str]:
    """The subjects for whom the guarded action ran."""
    return []


@pytest.fixture
def guarded(actions: list[str]) -> Blueprint:
    """A developer's page and action, both guarded with fresh_login_required."""
    blueprint = Blueprint("guarded", __name__)

    @blueprint.get("/reports/export")
    @fresh_login_required
    async def export_page() -> ResponseReturnValue:
        return "the export page"

    @blueprint.post("/reports/delete")
    @fresh_login_required
    async def delete_reports() -> ResponseReturnValue:
        actions.append(str(current_user.sub))
        return "deleted"

    return blueprint


@pytest.fixture
async def app(
    redis_url: str, idp: LocalIdp, app_ports: list[int], guarded: Blueprint
) -> AsyncIterator[Quart]:
    """The app in-process on the real provider, with the guarded routes."""
    async with local_app(redis_url, idp, app_ports[2], blueprints=[guarded]) as application:
        yield application


@pytest.fixture
async def other_browser() -> AsyncIterator[aiohttp.ClientSession]:
    """Another browser profile at the provider (no provider session of the first user)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def sign_in_as(
    app: Quart, http: aiohttp.ClientSession, username: str, **form: str
) -> QuartClient:
    """A test client signed in as `username` through the provider (form fields: `form`)."""
    client = app.test_client()
    callback = await sign_in_in_process(client, http, username, **form)
    assert callback.status_code == 302, await callback.get_data(as_text=True)
    return client


async def test_every_sign_in_asks_for_auth_time_and_a_fresh_one_needs_no_second(
    app: Quart, http: aiohttp.ClientSession, actions: list[str]
) -> None:
    start = await app.test_client().get("/sign-in")
    query = single_query(start.headers["Location"])
    assert query["max_age"] == str(auth_of(app).settings.SESSION_LIFETIME)
    assert query["prompt"] == "consent"

    client = await sign_in_as(app, http, "freshly")
    auth_time = (claims_of(await stored(app, client)) or {})["auth_time"]
    assert time.time() - 10 <= auth_time <= time.time() + 1
    assert (await client.get("/reports/export")).status_code == 200
    token = await csrf_token_of(client)
    done = await client.post("/reports/delete", form={"csrf_token": token})
    assert (done.status_code, await done.get_data(as_text=True)) == (200, "deleted")
    assert len(actions) == 1


async def test_an_old_sign_in_is_sent_to_reauthenticate_and_comes_back(
    app: Quart, http: aiohttp.ClientSession, actions: list[str], idp: LocalIdp
) -> None:
    client = await sign_in_as(app, http, "olga", auth_age=OLD)
    page = await client.get("/reports/export?year=2025")
    assert page.status_code == 302
    assert page.headers["Location"] == "/sign-in?reauth=1&next=/reports/export?year%3D2025"
    action = await client.post("/reports/delete", form={"next": "/reports/export"})
    assert action.status_code == 303, "a POST is sent on with a GET"
    assert action.headers["Location"] == "/sign-in?reauth=1&next=/reports/export"
    assert actions == [], "the action was not performed"

    before, sid = await stored(app, client), session_id(client, app)
    start = await client.get(action.headers["Location"])
    assert start.status_code == 302 and start.headers["Location"].startswith(idp.issuer)
    query = single_query(start.headers["Location"])
    assert query["prompt"].split() == ["login", "consent"]
    assert query["max_age"] == str(REAUTH_MAX_AGE)
    assert await stored(app, client) == before, "the tokens are kept until it succeeds"
    assert await signed_in_as(client) == "Olga"

    # prompt=login: the provider asks again although its session is live.
    async with http.get(start.headers["Location"]) as screen:
        assert 'id="username"' in await screen.text()
    callback = await sign_in_in_process(client, http, "olga", path=action.headers["Location"])
    assert callback.status_code == 302 and callback.headers["Location"] == "/reports/export"
    after = await stored(app, client)
    assert session_id(client, app) != sid, "a new session id, as after any sign-in"
    assert time.time() - 10 <= after["user"]["auth_time"] <= time.time() + 1
    assert after["user"]["sub"] == before["user"]["sub"]
    assert after["logto.idToken"] != before["logto.idToken"]
    assert (await client.get("/reports/export")).status_code == 200
    done = await client.post("/reports/delete", form={"csrf_token": await csrf_token_of(client)})
    assert done.status_code == 200 and actions == [before["user"]["sub"]]


@pytest.mark.parametrize(
    ("referer", "returns_to"),
    [
        ("http://127.0.0.1:{port}/reports/export?from=referer", "/reports/export?from%3Dreferer"),
        ("https://evil.example/reports", "/"),
        (None, "/"),
    ],
    ids=["same-site", "cross-site", "none"],
)
async def test_a_post_without_next_returns_to_the_referer_path_if_same_site(
    app: Quart,
    http: aiohttp.ClientSession,
    app_ports: list[int],
    referer: str | None,
    returns_to: str,
) -> None:
    client = await sign_in_as(app, http, "rhea", auth_age=OLD)
    headers = {"Referer": referer.format(port=app_ports[2])} if referer else {}
    action = await client.post("/reports/delete", headers=headers)
    assert action.status_code == 303
    assert action.headers["Location"] == f"/sign-in?reauth=1&next={returns_to}"


async def test_a_reauthentication_as_another_user_is_refused_and_changes_nothing(
    app: Quart,
    http: aiohttp.ClientSession,
    other_browser: aiohttp.ClientSession,
    actions: list[str],
) -> None:
    client = await sign_in_as(app, http, "ann", auth_age=OLD)
    before, sid = await stored(app, client), session_id(client, app)
    action = await client.post("/reports/delete", form={"next": "/reports/export"})
    # The re-authentication completed by someone else at the provider (no session there).
    callback = await sign_in_in_process(
        client, other_browser, "mallory", path=action.headers["Location"]
    )
    text = html.unescape(await callback.get_data(as_text=True))
    assert callback.status_code == 400, text
    assert "another user" in text and "still signed in as before" in text
    assert session_id(client, app) == sid, "the same session"
    assert await stored(app, client) == before, "the same tokens and claims"
    assert await signed_in_as(client) == "Ann"
    assert actions == []


async def test_a_stale_reauthentication_is_refused_and_changes_nothing(
    app: Quart, http: aiohttp.ClientSession, actions: list[str]
) -> None:
    client = await sign_in_as(app, http, "stan", auth_age=OLD)
    before, sid = await stored(app, client), session_id(client, app)
    page = await client.get("/reports/export")
    callback = await sign_in_in_process(
        client, http, "stan", path=page.headers["Location"], auth_age="1800"
    )
    text = html.unescape(await callback.get_data(as_text=True))
    assert callback.status_code == 400, text
    assert f"not within the last {REAUTH_MAX_AGE} seconds" in text
    assert (session_id(client, app), await stored(app, client)) == (sid, before)
    assert (await client.get("/reports/export")).status_code == 302, "still not fresh"


async def test_a_provider_wide_auth_time_offset_is_refused_too(
    app: Quart,
    http: aiohttp.ClientSession,
    other_browser: aiohttp.ClientSession,
    idp: LocalIdp,
) -> None:
    client = await sign_in_as(app, http, "otto")
    assert (await client.get("/reports/export")).status_code == 200
    async with http.post(idp.auth_time_url, json={"offset": 7200}) as switched:
        assert switched.status == 200
    try:
        other = await sign_in_as(app, other_browser, "otto")  # its auth_time: 2 hours ago
        assert (await other.get("/reports/export")).status_code == 302
    finally:
        async with http.post(idp.auth_time_url, json={"offset": 0}) as reset:
            assert reset.status == 200


async def test_a_session_without_auth_time_must_reauthenticate(app: Quart) -> None:
    async with signed_in(app, sub="user-no-time", name="Nora", auth_time=None) as client:
        page = await client.get("/reports/export")
        assert page.status_code == 302
        assert page.headers["Location"] == "/sign-in?reauth=1&next=/reports/export"
        token = await csrf_token_of(client)
        form = {"csrf_token": token, "name": "Changed", "next": "/profile"}
        action = await client.post("/profile", form=form)
        assert action.status_code == 303
        assert action.headers["Location"] == "/sign-in?reauth=1&next=/profile"


async def test_signed_out_visitors_of_a_guarded_route_sign_in_first(app: Quart) -> None:
    client = app.test_client()
    page = await client.get("/reports/export")
    assert (page.status_code, page.headers["Location"]) == (
        302,
        "/sign-in?next=/reports/export",
    )
    assert (await client.post("/reports/delete")).status_code == 401


async def test_reauth_asked_by_a_signed_out_visitor_is_a_plain_sign_in(app: Quart) -> None:
    start = await app.test_client().get("/sign-in?reauth=1&next=/reports/export")
    query = single_query(start.headers["Location"])
    assert query["prompt"] == "consent"
    assert query["max_age"] == str(auth_of(app).settings.SESSION_LIFETIME)


async def test_a_reauthentication_through_par_pushes_prompt_and_max_age(
    redis_url: str,
    idp: LocalIdp,
    app_ports: list[int],
    guarded: Blueprint,
    http: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with local_app(
        redis_url, idp, app_ports[2], blueprints=[guarded], LOGTO_PAR="true"
    ) as application:
        client = await sign_in_as(application, http, "pia", auth_age=OLD)
        pushed: list[dict[str, str]] = []
        provider = auth_of(application).parts.http
        push = ProviderHttp.push_authorization

        async def recording(url: str, form: list[tuple[str, str]]) -> str:
            pushed.append(dict(form))
            return await push(provider, url, form)

        monkeypatch.setattr(provider, "push_authorization", recording)
        page = await client.get("/reports/export")
        start = await client.get(page.headers["Location"])
        assert set(query_of(start.headers["Location"])) == {"client_id", "request_uri"}
        assert pushed[0]["prompt"] == "login consent"
        assert pushed[0]["max_age"] == str(REAUTH_MAX_AGE)
        async with http.get(start.headers["Location"]) as screen:
            text, url = await screen.text(), str(screen.url)
        assert 'id="username"' in text, "prompt=login reached the provider through PAR"
        form = forms_of(text)[0]
        data = {**form.fields, "username": "pia"}
        async with http.post(urljoin(url, form.action), data=data, allow_redirects=False) as answer:
            location = urljoin(url, answer.headers["Location"])
        callback = await back_to_the_app(client, http, url, location)
        assert callback.status_code == 302, await callback.get_data(as_text=True)
        assert (await client.get("/reports/export")).status_code == 200


# A provider that leaves auth_time out (the local one always sends it when asked: a fake)


async def test_a_reauthentication_without_auth_time_is_refused(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    hostile.id_token = lambda provider: provider.sign(auth_time=int(time.time()) - 3600)
    start = await client.get("/sign-in")
    signed = await client.get(await hostile.authorize(start.headers["Location"]))
    assert signed.status_code == 302, await signed.get_data(as_text=True)
    before, sid = await stored(hostile_app, client), session_id(client, hostile_app)

    token = await csrf_token_of(client)
    action = await client.post("/profile", form={"csrf_token": token, "name": "New"})
    assert action.status_code == 303
    hostile.id_token = lambda provider: provider.sign()  # no auth_time
    reauth = await client.get(action.headers["Location"])
    callback = await client.get(await hostile.authorize(reauth.headers["Location"]))
    text = html.unescape(await callback.get_data(as_text=True))
    assert callback.status_code == 400, text
    assert "no auth_time" in text
    assert (session_id(client, hostile_app), await stored(hostile_app, client)) == (sid, before)
