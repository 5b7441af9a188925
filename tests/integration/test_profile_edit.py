"""Changing one's name through Logto's Account API, against the real local provider: the
profile form, the sensitive-action guard, Logto's refusals and the public method."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from quart import Blueprint, Quart
from quart.typing import ResponseReturnValue
from redis.asyncio import Redis

from app.auth import ProfileRefused, current_user, login_required, logto
from app.sessions.store import session_keys
from devstack import AppServer, LocalIdp
from tests.auth_actions import AuthActions, Form, Page, forms_of
from tests.home_page import signed_in_user
from tests.in_process_sign_in import sign_in_in_process
from tests.local_app import local_app

# Usernames here are this module's own: a renamed account stays renamed at the provider for
# the rest of the run, and other tests expect their users' names.
OLD = "3600"  # the local provider's auth_age: a sign-in an hour ago
WHO = re.compile(r'<span class="who" title="Signed in">([^<]*)</span>')
DEFAULT_FIELDS = {"name": "Edit", "avatar": "Edit", "username": "ReadOnly"}


def edit_form(page: Page) -> Form:
    """The profile page's name form."""
    return next(
        form
        for form in forms_of(page.text)
        if form.method.lower() == "post" and form.action.endswith("/profile")
    )


def heading(page: Page) -> str:
    """The profile page's heading: the person's name."""
    return html.unescape(page.text.split("<h1>", 1)[1].split("</h1>", 1)[0])


def problem(page: Page) -> str:
    """The message of a refused change."""
    found = re.search(r'id="profile-problem" role="alert">([^<]*)<', page.text)
    assert found, page.text[:2000]
    return html.unescape(found.group(1))


async def save_name(auth: AuthActions, name: str) -> Page:
    """Submit the profile's name form with `name` (following the answer's redirects)."""
    profile = await auth.get("/profile")
    return await auth.submit(profile, edit_form(profile), name=name)


async def post_profile(auth: AuthActions, **form: str) -> tuple[int, str]:
    """POST /profile with exactly `form`, not following: status and Location."""
    url = f"{auth.app_url}/profile"
    async with auth.http.post(url, data=form, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", "")


@pytest.fixture
async def account_center(idp: LocalIdp) -> AsyncIterator[str]:
    """The provider's Account Center switch URL, put back as it was after the test."""
    yield idp.account_center_url
    async with (
        aiohttp.ClientSession() as http,
        http.post(idp.account_center_url, json={"enabled": True, "fields": DEFAULT_FIELDS}) as r,
    ):
        assert r.status == 200


async def switch(url: str, body: dict[str, Any]) -> None:
    """Change the provider's Account Center."""
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        assert response.status == 200, await response.text()


async def test_the_profile_has_a_name_form_with_a_csrf_token(auth: AuthActions) -> None:
    await auth.sign_in("formica")
    form = edit_form(await auth.get("/profile"))
    assert form.fields["name"] == "Formica" and form.fields["csrf_token"]
    assert form.fields["next"] == "/profile"


async def test_changing_the_name_shows_it_on_every_page_at_once(
    auth: AuthActions, app_server: AppServer, second_app_server: AppServer
) -> None:
    await auth.sign_in("renata")
    saved = await save_name(auth, "  Renata Q. Changed  ")
    assert saved.url == f"{app_server.url}/profile?saved=name", saved.visited
    assert heading(saved) == "Renata Q. Changed" and 'id="profile-saved"' in saved.text
    # Logto has it (its userinfo answer on the profile page) and so do the stored claims.
    assert saved.text.count("<th>name</th><td>Renata Q. Changed</td>") == 2
    home = await auth.get("/")
    assert signed_in_user(home.status, home.text) == "Renata Q. Changed"
    for path in ("/sessions", "/organizations", "/call-api", "/sign-out"):
        page = await auth.get(path)
        assert WHO.findall(page.text) == ["Renata Q. Changed"], path
    # Another app process (think: another host) reads the same session from Redis.
    async with auth.http.get(f"{second_app_server.url}/") as other:
        assert signed_in_user(other.status, await other.text()) == "Renata Q. Changed"


async def test_a_name_of_128_characters_is_saved(auth: AuthActions) -> None:
    await auth.sign_in("longname")
    name = "Ä" * 128  # characters, not bytes
    assert heading(await save_name(auth, name)) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Please enter a name."),
        ("   ", "Please enter a name."),
        ("x" * 129, "at most 128 characters; this one has 129"),
        ("Ann\nLee", "control characters"),
        ("Ann\x00", "control characters"),
    ],
    ids=["empty", "spaces", "129-characters", "newline", "nul"],
)
async def test_an_invalid_name_is_a_clear_message_and_changes_nothing(
    auth: AuthActions, name: str, message: str
) -> None:
    await auth.sign_in("valentina")
    page = await save_name(auth, name)
    assert page.status == 400
    assert message in problem(page) and "Nothing was changed." in problem(page)
    assert heading(page) == "Valentina"
    assert page.text.count("<th>name</th><td>Valentina</td>") == 2, "claims and Logto unchanged"
    home = await auth.get("/")
    assert signed_in_user(home.status, home.text) == "Valentina"


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"enabled": False}, 409, "Account Center is not enabled"),
        ({"fields": {"name": "ReadOnly"}}, 409, "name field is not set to Edit"),
        ({"fields": {"name": "Off"}}, 409, "name field is not set to Edit"),
    ],
    ids=["account-center-off", "name-read-only", "name-off"],
)
async def test_logto_refusing_the_change_is_a_clear_message_and_changes_nothing(
    auth: AuthActions, account_center: str, change: dict[str, Any], status: int, message: str
) -> None:
    await auth.sign_in("rufus")
    await switch(account_center, change)
    page = await save_name(auth, "Rufus Renamed")
    assert page.status == status
    assert message in problem(page) and "Nothing was changed." in problem(page)
    assert heading(page) == "Rufus"
    assert edit_form(page).fields["name"] == "Rufus Renamed", "what was typed stays in the field"
    await switch(account_center, {"enabled": True, "fields": DEFAULT_FIELDS})
    profile = await auth.get("/profile")
    assert profile.text.count("<th>name</th><td>Rufus</td>") == 2, "Logto still says Rufus"


async def test_an_access_token_logto_refuses_is_a_clear_message(
    auth: AuthActions, redis: Redis
) -> None:
    await auth.sign_in("tokyo")
    sid = auth.session_id()
    assert sid
    key = session_keys(sid)[0]
    data = json.loads(await redis.get(key) or "{}")
    tokens = json.loads(data["logto.accessTokenMap"])
    tokens["x"][""]["token"] = "not-a-token-logto-issued"
    data["logto.accessTokenMap"] = json.dumps(tokens)
    await redis.set(key, json.dumps(data), keepttl=True)
    home = await auth.get("/")  # the home page asks Logto nothing
    token = forms_of(home.text)[0].fields["csrf_token"]
    async with auth.http.post(
        f"{auth.app_url}/profile", data={"csrf_token": token, "name": "Tokyo Renamed"}
    ) as response:
        page = Page(str(response.url), response.status, await response.text())
    assert page.status == 401
    assert "did not accept this sign-in" in problem(page)
    assert heading(page) == "Tokyo"
    assert await redis.get(key) == json.dumps(data), "the session is as it was"


async def test_an_old_sign_in_confirms_before_the_name_changes(
    auth: AuthActions, app_server: AppServer, idp: LocalIdp
) -> None:
    login = await auth.get("/sign-in")
    await auth.submit(login, forms_of(login.text)[0], username="olwen", auth_age=OLD)
    profile = await auth.get("/profile")
    form = edit_form(profile)
    status, location = await post_profile(auth, **{**form.fields, "name": "Olwen New"})
    assert (status, location) == (303, "/sign-in?reauth=1&next=/profile")
    confirm = await auth.get(location)
    assert confirm.url.startswith(idp.endpoint)
    assert "<h1>Sign in</h1>" in confirm.text, "prompt=login: Logto asks again"
    back = await auth.submit(confirm, forms_of(confirm.text)[0], username="olwen")
    assert back.url == f"{app_server.url}/profile"
    assert heading(back) == "Olwen", "not changed: the user repeats the action"
    saved = await save_name(auth, "Olwen New")
    assert saved.status == 200 and heading(saved) == "Olwen New"


async def test_post_profile_needs_the_csrf_token(auth: AuthActions, app_server: AppServer) -> None:
    await auth.sign_in("cassie")
    form = edit_form(await auth.get("/profile")).fields
    for changed in ({"csrf_token": ""}, {"csrf_token": "0" * 64}):
        assert (await post_profile(auth, **{**form, **changed, "name": "Forged"}))[0] == 403
    async with auth.http.post(
        f"{app_server.url}/profile",
        data={**form, "name": "Forged"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    ) as cross_site:
        assert cross_site.status == 403
    profile = await auth.get("/profile")
    assert heading(profile) == "Cassie" and "Forged" not in profile.text


async def test_post_profile_signed_out_is_refused(auth: AuthActions) -> None:
    status, _ = await post_profile(auth, name="Nobody")
    assert status in {401, 403}


# The public method, for a developer's own pages


@pytest.fixture
async def api_app(redis_url: str, idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app in-process with a developer's route that renames the user."""
    blueprint = Blueprint("rename", __name__)

    @blueprint.get("/_test/rename/<name>")
    @login_required
    async def rename(name: str) -> ResponseReturnValue:
        try:
            profile = await logto.update_profile(name=name)
        except ProfileRefused as refusal:
            return {"refused": refusal.message, "code": refusal.code}, refusal.status
        return {"profile_name": profile["name"], "current_user": current_user.name}

    async with local_app(redis_url, idp, app_ports[2], blueprints=[blueprint]) as application:
        yield application


async def test_update_profile_changes_the_name_at_logto_and_in_current_user(
    api_app: Quart, http: aiohttp.ClientSession
) -> None:
    client = api_app.test_client()
    assert (await sign_in_in_process(client, http, "devon")).status_code == 302
    answer = await client.get("/_test/rename/Devon%20Dev")
    assert await answer.get_json() == {"profile_name": "Devon Dev", "current_user": "Devon Dev"}
    refused = await client.get("/_test/rename/%20")
    assert refused.status_code == 400
    assert "Please enter a name." in (await refused.get_json())["refused"]
