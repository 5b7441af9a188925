"""Session fixation, several sign-ins at once, foreign and forged callbacks, sign-out guards."""

from urllib.parse import parse_qs, urlsplit

import aiohttp
from quart import Quart
from yarl import URL

from app.sessions.data import set_user_agent
from app.sessions.store import SessionStore
from app.testing import signed_in
from devstack import AppServer, LocalIdp
from tests.auth_actions import SESSION_COOKIE, AuthActions, Page, forms_of
from tests.home_page import greeted_on, home, signed_in_as, signed_out_on
from tests.stored_session import is_stored


async def provider_url_of_new_sign_in(auth: AuthActions, path: str = "/sign-in") -> str:
    """Start a sign-in at the app and return the provider URL it redirects to."""
    async with auth.http.get(f"{auth.app_url}{path}", allow_redirects=False) as resp:
        assert resp.status == 302
        return resp.headers["Location"]


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def finish_at_provider(auth: AuthActions, provider_url: str, username: str) -> Page:
    """Complete a started sign-in at the provider (its form, if it shows one)."""
    page = await auth.get(provider_url)
    if not page.url.startswith(auth.app_url) and (forms := forms_of(page.text)):
        page = await auth.submit(page, forms[0], username=username)
    return page


async def test_sign_in_gives_the_session_a_new_id(auth: AuthActions, store: SessionStore) -> None:
    # A session the browser already had (planted by an attacker, say) is never kept on.
    planted = store.fresh()
    set_user_agent(planted, "the attacker's browser")
    await store.persist(planted)
    assert await is_stored(store, planted.sid)
    auth.http.cookie_jar.update_cookies({SESSION_COOKIE: planted.sid}, URL(auth.app_url))
    provider_url = await provider_url_of_new_sign_in(auth)
    landed = await finish_at_provider(auth, provider_url, "fixated")
    assert greeted_on(landed) == "Fixated"
    after = auth.session_id()
    assert after and after != planted.sid
    assert not await is_stored(store, planted.sid)


async def test_two_tabs_signing_in_at_once_both_complete(
    auth: AuthActions, app_server: AppServer
) -> None:
    first_tab = await provider_url_of_new_sign_in(auth, "/sign-in?next=/profile")
    second_tab = await provider_url_of_new_sign_in(auth, "/sign-in?next=/sign-out")
    landed_first = await finish_at_provider(auth, first_tab, "tabby")
    assert landed_first.url == f"{app_server.url}/profile"
    landed_second = await finish_at_provider(auth, second_tab, "tabby")
    assert landed_second.status == 200
    assert landed_second.url == f"{app_server.url}/sign-out"
    assert 'id="confirm-sign-out"' in landed_second.text, "the sign-out page of a signed-in user"
    assert greeted_on(await auth.get("/")) == "Tabby", "both sign-ins left the browser signed in"


async def test_only_the_five_newest_sign_ins_are_kept(auth: AuthActions) -> None:
    started = [await provider_url_of_new_sign_in(auth) for _ in range(6)]
    oldest = await auth.get(f"/callback?code=x&state={state_of(started[0])}")
    assert oldest.status == 400 and "unknown or expired" in oldest.text
    newest = await finish_at_provider(auth, started[-1], "fifth")
    assert greeted_on(newest) == "Fifth"


async def test_state_from_another_browser_is_refused(
    auth: AuthActions, app_server: AppServer
) -> None:
    victim_state = state_of(await provider_url_of_new_sign_in(auth))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as other:
        attacker = AuthActions(app_server.url, other)
        page = await attacker.get(f"/callback?code=stolen&state={victim_state}")
        assert page.status == 400 and "unknown or expired" in page.text
        assert signed_out_on(await attacker.get("/"))


async def test_callback_from_another_issuer_is_refused(auth: AuthActions, idp: LocalIdp) -> None:
    provider_url = await provider_url_of_new_sign_in(auth)
    state = state_of(provider_url)
    forged = await auth.get(f"/callback?code=x&state={state}&iss=https://evil.example/oidc")
    assert forged.status == 400 and "another issuer" in forged.text
    replay = await auth.get(f"/callback?code=x&state={state}&iss={idp.issuer}")
    assert replay.status == 400 and "unknown or expired" in replay.text, "the state was spent"


async def test_missing_state_is_refused(auth: AuthActions) -> None:
    page = await auth.get("/callback?code=x")
    assert page.status == 400 and "no state" in page.text


async def test_sign_in_while_signed_in_goes_straight_to_next(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="already", name="Already") as client:
        response = await client.get("/sign-in?next=/profile")
        assert response.status_code == 302 and response.headers["Location"] == "/profile"
        assert await signed_in_as(client) == "Already"


async def test_cross_site_sign_out_is_refused(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="crosser", name="Crosser") as client:
        _, text = await home(client)
        token = next(f for f in forms_of(text) if f.action.endswith("/sign-out")).fields
        assert token["csrf_token"], "the sign-out form carries the session's CSRF token"
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            response = await client.post("/sign-out", form=token, headers=headers)
            assert response.status_code == 403, headers
        assert await signed_in_as(client) == "Crosser"


async def test_sign_out_response_is_not_cached(auth: AuthActions) -> None:
    await auth.sign_in("nocache")
    page = await auth.get("/")
    form = next(f for f in forms_of(page.text) if f.action.endswith("/sign-out"))
    async with auth.http.post(
        f"{auth.app_url}/sign-out", data=form.fields, allow_redirects=False
    ) as resp:
        assert resp.status == 302
        assert resp.headers["Cache-Control"] == "no-store"


async def test_referrer_policy_hides_the_callback_url(auth: AuthActions) -> None:
    async with auth.http.get(f"{auth.app_url}/callback?state=x", allow_redirects=False) as resp:
        assert resp.headers["Referrer-Policy"] == "no-referrer"
    async with auth.http.get(f"{auth.app_url}/", allow_redirects=False) as resp:
        assert resp.headers["Referrer-Policy"] == "strict-origin"
