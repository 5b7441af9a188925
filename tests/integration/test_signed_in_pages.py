"""What the pages show a signed-in user, for a real signed-in session (app.testing.signed_in):
no browser and no provider round trip. The sign-in flows themselves are tested end to end."""

from __future__ import annotations

import html
import re

from quart import Quart

from app.testing import signed_in
from tests.auth_actions import forms_of
from tests.home_page import home, signed_in_user

WHO = re.compile(r'<span class="who"[^>]*>([^<]*)</span>')
NAV = re.compile(r'<nav aria-label="Main">(.*?)</nav>', re.S)
TAGS = re.compile(r"<[^>]+>")
SESSION_ROW = re.compile(r'<li class="session.*?</li>', re.S)
DATE = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC")


def visible_text(page: str) -> str:
    """The page's text without its tags, as a reader sees it."""
    return html.unescape(TAGS.sub(" ", page))


async def test_home_greets_the_user_with_one_csrf_protected_sign_out_form(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="ann-1", name="Ann", username="ann") as client:
        status, text = await home(client)
    assert signed_in_user(status, text) == "Ann"
    assert 'Hello, <span class="user-name">Ann</span>' in text
    sign_outs = [form for form in forms_of(text) if form.action == "/sign-out"]
    assert len(sign_outs) == 1 and sign_outs[0].method == "post"
    assert len(sign_outs[0].fields["csrf_token"]) >= 32


async def test_home_without_a_name_greets_with_the_username(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="bo-1", username="bo") as client:
        assert signed_in_user(*await home(client)) == "bo"


async def test_home_links_to_every_page_and_speaks_of_no_tokens(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="cy-1", name="Cy") as client:
        _, text = await home(client)
    nav = NAV.search(text)
    assert nav is not None
    for path, name in [
        ("/profile", "Profile"),
        ("/call-api", "Call API"),
        ("/organizations", "Organizations"),
        ("/sessions", "Sessions"),
    ]:
        assert f'<a href="{path}">{name}</a>' in nav.group(1), name
    assert WHO.findall(nav.group(1)) == ["Cy"], "the header names the user"
    assert "tokens" not in visible_text(text).lower()


async def test_the_header_knows_the_user_on_error_pages(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="dee-1", name="Dee") as client:
        response = await client.get("/no-such-page")
        text = await response.get_data(as_text=True)
    assert response.status_code == 404
    assert WHO.findall(text) == ["Dee"]
    assert any(form.action == "/sign-out" and form.fields["csrf_token"] for form in forms_of(text))
    assert re.search(r'<p class="error-message">[^<]*no page at this address', text)


async def test_the_sessions_page_lists_a_single_session_as_this_browser(idp_app: Quart) -> None:
    async with signed_in(idp_app, sub="eve-1", name="Eve") as client:
        response = await client.get("/sessions")
        text = await response.get_data(as_text=True)
    assert response.status_code == 200
    rows = SESSION_ROW.findall(text)
    assert len(rows) == 1 and 'class="session current"' in rows[0]
    assert "This browser" in rows[0] and DATE.search(rows[0]), "when it began, readably"
    ends = [form for form in forms_of(rows[0]) if form.action.endswith("/end")]
    assert len(ends) == 1 and ends[0].fields["csrf_token"]
    assert ">Sign out</button>" in rows[0], "ending this browser's session is signing out"
    assert 'id="sign-out-everywhere"' in text
