"""The whole flow over real sockets: hypercorn (Procfile), the local provider, Redis."""

from urllib.parse import urljoin

import aiohttp
from quart import Quart

from app.sessions.store import SessionStore
from app.testing import signed_in
from devstack import AppServer, LocalIdp
from tests.auth_actions import SESSION_COOKIE, AuthActions, forms_of
from tests.home_page import greeted_on, signed_in_as, signed_out_on
from tests.stored_session import is_stored


async def test_sign_in_shows_the_name_on_home(auth: AuthActions, app_server: AppServer) -> None:
    home = await auth.sign_in("alice")
    assert home.url == f"{app_server.url}/"
    assert 'Hello, <span class="user-name">Alice</span>' in home.text
    assert greeted_on(home) == "Alice"


async def test_signed_out_home_offers_sign_in_and_sign_up(auth: AuthActions) -> None:
    home = await auth.get("/")
    assert signed_out_on(home) and 'id="sign-up"' in home.text


async def test_profile_shows_id_token_claims_and_user_info(auth: AuthActions) -> None:
    await auth.sign_in("bob")
    profile = await auth.get("/profile")
    assert profile.status == 200
    assert "ID token claims" in profile.text and "User info" in profile.text
    assert profile.text.count("<th>username</th><td>bob</td>") == 2, "claims and userinfo"
    assert "<th>iss</th>" in profile.text


async def test_profile_sends_signed_out_users_through_sign_in_and_back(
    auth: AuthActions, app_server: AppServer
) -> None:
    async with auth.http.get(f"{app_server.url}/profile", allow_redirects=False) as resp:
        assert resp.status == 302
        assert resp.headers["Location"] == "/sign-in?next=/profile"
    landed = await auth.sign_in("carol", path="/profile")
    assert landed.url == f"{app_server.url}/profile"
    assert "Profile of Carol" in landed.text


async def test_unsafe_next_falls_back_to_home(auth: AuthActions, app_server: AppServer) -> None:
    landed = await auth.sign_in("dave", path="/sign-in?next=//evil.example/")
    assert landed.url == f"{app_server.url}/"


async def test_sign_up_asks_the_provider_for_the_create_account_screen(
    auth: AuthActions, app_server: AppServer
) -> None:
    async with auth.http.get(f"{app_server.url}/sign-up", allow_redirects=False) as resp:
        location = resp.headers["Location"]
    assert "interaction_mode=signUp" in location and "first_screen=register" in location
    screen = await auth.get("/sign-up")
    assert "<h1>Create account</h1>" in screen.text
    home = await auth.submit(screen, forms_of(screen.text)[0], username="erin")
    assert greeted_on(home) == "Erin"


async def test_sign_out_clears_server_session(
    auth: AuthActions, app_server: AppServer, idp: LocalIdp, store: SessionStore
) -> None:
    await auth.sign_in("frank")
    old_session_id = auth.session_id()
    assert old_session_id and await is_stored(store, old_session_id)

    ended = await auth.sign_out()
    assert ended.url == f"{app_server.url}/"
    assert signed_out_on(ended)
    assert not await is_stored(store, old_session_id)
    again = await auth.get("/sign-in")
    assert again.url.startswith(idp.endpoint) and forms_of(again.text), "provider session ended too"

    async with (
        aiohttp.ClientSession(cookies={SESSION_COOKIE: old_session_id}) as replay,
        replay.get(f"{app_server.url}/profile", allow_redirects=False) as resp,
    ):
        assert resp.status == 302, "the old cookie no longer signs anyone in"


async def test_sign_out_without_csrf_token_is_refused(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="grace", name="Grace") as client:
        assert (await client.post("/sign-out", form={})).status_code == 403
        forged = await client.post("/sign-out", form={"csrf_token": "forged"})
        assert forged.status_code == 403 and "Location" not in forged.headers
        assert await signed_in_as(client) == "Grace"


async def test_get_sign_out_never_signs_out(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="heidi", name="Heidi") as client:
        page = await client.get("/sign-out")
        text = await page.get_data(as_text=True)
        assert page.status_code == 200 and 'id="sign-out"' in text
        assert 'id="confirm-sign-out"' in text, "the page asks; only its form signs out"
        assert await signed_in_as(client) == "Heidi"


def assert_cookie_flags(set_cookie: str, name: str) -> None:
    """`set_cookie` sets `name`, HttpOnly, SameSite=Lax, Path=/ and no Domain."""
    assert set_cookie.startswith(f"{name}="), set_cookie
    attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")}
    assert {"httponly", "path"} <= attributes
    assert "samesite=lax" in set_cookie.lower()
    assert "path=/;" in set_cookie.lower() + ";"
    assert "domain" not in attributes


async def test_session_cookie_is_opaque_httponly_and_lax(
    auth: AuthActions, app_server: AppServer
) -> None:
    async with auth.http.get(f"{app_server.url}/sign-in", allow_redirects=False) as resp:
        assert resp.status == 302
        assert_cookie_flags(resp.headers["Set-Cookie"], "sign-in")
    login = await auth.get(resp.headers["Location"])
    form = forms_of(login.text)[0]
    url, data = urljoin(login.url, form.action), {**form.fields, "username": "ivan"}
    async with auth.http.post(url, data=data, allow_redirects=False) as step:
        callback = step.headers["Location"]
    while not callback.startswith(f"{app_server.url}/callback"):  # the provider's own hops
        async with auth.http.get(callback, allow_redirects=False) as step:
            callback = urljoin(callback, step.headers["Location"])
    async with auth.http.get(callback, allow_redirects=False) as resp:
        assert resp.status == 302
        cookies = resp.headers.getall("Set-Cookie")
    assert_cookie_flags(next(c for c in cookies if c.startswith("session=")), SESSION_COOKIE)
    session_id = auth.session_id() or ""
    assert "." not in session_id, "not a JWT or any token: an opaque id"
