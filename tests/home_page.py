"""Read the home page positively: signed in as someone, signed out, or neither (an error page)."""

from __future__ import annotations

import html
import re

from quart.typing import TestClientProtocol as QuartClient

from tests.auth_actions import Page, forms_of

USER_NAME = re.compile(r'<span class="user-name">([^<]*)</span>')
SIGN_IN_LINK = 'id="sign-in"'


def signed_in_user(status: int, text: str) -> str | None:
    """The user the page greets, if it is the signed-in home page; None for anything else.

    Signed in means: status 200, the user's name, and a sign-out form that posts a CSRF token,
    and no Sign in link. An error page, a redirect or the signed-out page is not signed in.
    """
    if status != 200 or SIGN_IN_LINK in text:
        return None
    names = {html.unescape(name) for name in USER_NAME.findall(text)}
    sign_out_forms = [
        form
        for form in forms_of(text)
        if form.method.lower() == "post"
        and form.action.endswith("/sign-out")
        and form.fields.get("csrf_token")
    ]
    if len(names) != 1 or not sign_out_forms:
        return None
    return names.pop() or None


def shows_signed_out(status: int, text: str) -> bool:
    """True for the signed-out home page only: 200, the Sign in link, no user, no sign-out form."""
    return (
        status == 200
        and SIGN_IN_LINK in text
        and USER_NAME.search(text) is None
        and not any(form.action.endswith("/sign-out") for form in forms_of(text))
    )


async def home(client: QuartClient) -> tuple[int, str]:
    """GET / with `client`: its status and text."""
    response = await client.get("/")
    return response.status_code, await response.get_data(as_text=True)


async def signed_in_as(client: QuartClient) -> str | None:
    """The user `client`'s home page greets as signed in, or None."""
    return signed_in_user(*await home(client))


async def is_signed_in(client: QuartClient) -> bool:
    """True when `client`'s home page is the signed-in page (see `signed_in_user`)."""
    return await signed_in_as(client) is not None


async def is_signed_out(client: QuartClient) -> bool:
    """True when `client`'s home page is the signed-out page (see `shows_signed_out`)."""
    return shows_signed_out(*await home(client))


def greeted_on(page: Page) -> str | None:
    """The user a fetched home `page` greets as signed in (see `signed_in_user`), or None."""
    return signed_in_user(page.status, page.text)


def signed_out_on(page: Page) -> bool:
    """True when a fetched `page` is the signed-out home page (see `shows_signed_out`)."""
    return shows_signed_out(page.status, page.text)
