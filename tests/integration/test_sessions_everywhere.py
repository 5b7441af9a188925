"""Signed out means signed out everywhere, through the real provider and two app hosts."""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin

import aiohttp
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from app.sessions.store import SessionStore
from app.testing import signed_in
from devstack import AppServer, LocalIdp
from tests.auth_actions import AuthActions, Page, forms_of
from tests.home_page import greeted_on, signed_in_as, signed_out_on
from tests.provider_calls import refresh_refused
from tests.storage_routes import session_cookie
from tests.stored_session import stored_refresh_token


async def sign_out_at_the_provider(browser: AuthActions, idp: LocalIdp) -> None:
    """What a person does on the provider's own sign-out page."""
    page = await browser.get(idp.sign_out_url)
    form = forms_of(page.text)[0]
    confirm = await browser.get(urljoin(page.url, form.action))  # a GET form
    if forms := forms_of(confirm.text):
        await browser.submit(confirm, forms[0])  # the logout form that submits itself


async def eventually_signed_out(browser: AuthActions) -> bool:
    """Poll for up to 5 s: the provider delivers the logout token as it ends its session."""
    for _ in range(50):
        if signed_out_on(await browser.get("/")):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_signing_out_at_the_provider_and_everywhere(
    app_server: AppServer,
    second_app_server: AppServer,
    idp: LocalIdp,
    store: SessionStore,
    browsers: list[aiohttp.ClientSession],
) -> None:
    first, second = (AuthActions(app_server.url, browser) for browser in browsers[:2])
    third = AuthActions(second_app_server.url, browsers[2])  # another host
    for browser in (first, second, third):
        await browser.sign_in("everywhere")
    first_on_other_host = AuthActions(second_app_server.url, browsers[0])
    assert greeted_on(await first_on_other_host.get("/")) == "Everywhere"

    await sign_out_at_the_provider(first, idp)
    assert await eventually_signed_out(first), "the back-channel logout ended it"
    assert signed_out_on(await first_on_other_host.get("/")), "on the other host too"
    assert greeted_on(await second.get("/")) == greeted_on(await third.get("/")) == "Everywhere"

    tokens = [await stored_refresh_token(store, b.session_id() or "") for b in (second, third)]
    page = await second.get("/sessions")
    everywhere = next(f for f in forms_of(page.text) if f.action.endswith("/sign-out/everywhere"))
    await second.submit(page, everywhere)
    assert signed_out_on(await second.get("/"))
    assert signed_out_on(await third.get("/")), "the session on the other host ended too"
    for token in tokens:
        assert await refresh_refused(idp, token)


def handles_in(text: str) -> list[str]:
    """The session handles a sessions page offers to end, in page order."""
    return [
        form.action.split("/sessions/")[1].removesuffix("/end")
        for form in forms_of(text)
        if "/sessions/" in form.action
    ]


def handles_on(page: Page) -> list[str]:
    """The session handles a fetched sessions page offers to end."""
    return handles_in(page.text)


async def sessions_page(client: QuartClient) -> tuple[int, str]:
    """GET /sessions with `client`: its status and text."""
    response = await client.get("/sessions")
    return response.status_code, await response.get_data(as_text=True)


async def test_the_sessions_page_lists_exactly_this_users_sessions(idp_app: Quart) -> None:
    async with (
        signed_in(idp_app, sub="lister") as mine,
        signed_in(idp_app, sub="lister"),
        signed_in(idp_app, sub="not-lister") as someone_else,
    ):
        status, text = await sessions_page(mine)
        assert status == 200
        assert len(handles_in(text)) == 2
        assert text.count("This browser") == 1
        assert session_cookie(mine) not in text, "handles, never session ids"
        theirs = handles_in((await sessions_page(someone_else))[1])
    assert len(theirs) == 1, "the other user's page lists their one session"
    assert set(theirs).isdisjoint(handles_in(text)), "and none of this user's"


async def test_ending_a_session_signs_that_browser_out(
    app_server: AppServer, browsers: list[aiohttp.ClientSession]
) -> None:
    here, there = (AuthActions(app_server.url, b) for b in browsers[:2])
    await here.sign_in("ender")
    await there.sign_in("ender")
    page = await here.get("/sessions")
    other = [form for form in forms_of(page.text) if "/sessions/" in form.action][1]  # 0: here
    ended = await here.submit(page, other)
    assert ended.url.endswith("/sessions") and len(handles_on(ended)) == 1
    assert signed_out_on(await there.get("/"))
    assert greeted_on(await here.get("/")) == "Ender"


async def test_a_foreign_or_forged_handle_ends_nothing(idp_app: Quart) -> None:
    async with (
        signed_in(idp_app, sub="victim", name="Victim") as victim,
        signed_in(idp_app, sub="attacker", name="Attacker") as attacker,
    ):
        victims_handle = handles_in((await sessions_page(victim))[1])[0]
        _, text = await sessions_page(attacker)
        form = next(f for f in forms_of(text) if "/sessions/" in f.action)
        for handle in (victims_handle, "0" * 32, session_cookie(victim)):
            answer = await attacker.post(f"/sessions/{handle}/end", form=form.fields)
            assert answer.status_code == 404, await answer.get_data(as_text=True)
        assert await signed_in_as(victim) == "Victim"
        assert await signed_in_as(attacker) == "Attacker"


async def test_ending_a_session_needs_the_csrf_token(idp_app: Quart) -> None:
    async with (
        signed_in(idp_app, sub="csrf-checked", name="Checked") as here,
        signed_in(idp_app, sub="csrf-checked", name="Checked") as there,
    ):
        _, text = await sessions_page(here)
        forms = forms_of(text)
        assert len(forms) == 4, "sign out (header), end here, end there, sign out everywhere"
        for form in forms:
            answer = await here.post(form.action, form={**form.fields, "csrf_token": "forged"})
            assert answer.status_code == 403, form.action
        assert await signed_in_as(here) == await signed_in_as(there) == "Checked"
