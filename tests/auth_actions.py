"""A cookie-keeping HTTP client that signs in and out through the real provider, like a browser."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import aiohttp
from yarl import URL

SESSION_COOKIE = "session"


@dataclass
class Form:
    """The first form of a page: where it posts and its named inputs."""

    action: str
    method: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get"), {}))
        elif tag in {"input", "button"} and self.forms and "name" in values:
            self.forms[-1].fields.setdefault(values["name"], values.get("value", ""))


def forms_of(html: str) -> list[Form]:
    """Every form in `html`, in page order."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


@dataclass
class Page:
    """A fetched page: its final URL, status and body."""

    url: str
    status: int
    text: str
    visited: tuple[str, ...] = ()


async def _page(resp: aiohttp.ClientResponse) -> Page:
    visited = (*(str(step.url) for step in resp.history), str(resp.url))
    return Page(str(resp.url), resp.status, await resp.text(), visited)


class AuthActions:
    """Signs a user in and out of the app at `app_url` with one cookie jar."""

    def __init__(self, app_url: str, http: aiohttp.ClientSession) -> None:
        self.app_url = app_url.rstrip("/")
        self.http = http

    async def get(self, url: str, *, follow: bool = True) -> Page:
        """GET `url` (relative to the app) following redirects across hosts."""
        async with self.http.get(urljoin(self.app_url + "/", url), allow_redirects=follow) as resp:
            return await _page(resp)

    async def submit(self, page: Page, form: Form, **fields: str) -> Page:
        """Submit `form` of `page` with its own fields overridden by `fields`."""
        data = {**form.fields, **fields}
        target = urljoin(page.url, form.action or page.url)
        async with self.http.post(target, data=data) as resp:
            return await _page(resp)

    async def sign_in(self, username: str = "demo", path: str = "/sign-in") -> Page:
        """Go through `path`, the provider's form, and the callback; return the page landed on."""
        login = await self.get(path)
        assert login.status == 200, login.text
        return await self.submit(login, forms_of(login.text)[0], username=username)

    async def sign_out(self, via: str = "/") -> Page:
        """Post the sign-out form found on `via`, then complete the provider's logout form."""
        page = await self.get(via)
        sign_out_form = next(
            form for form in forms_of(page.text) if form.action.endswith("/sign-out")
        )
        ended = await self.submit(page, sign_out_form)
        on_provider = not ended.url.startswith(self.app_url)
        if on_provider and (provider_forms := forms_of(ended.text)):
            # The provider's logout page submits itself with a script; do what it does.
            ended = await self.submit(ended, provider_forms[0])
        return ended

    def session_id(self) -> str | None:
        """The app's session cookie value, if any."""
        cookie = self.http.cookie_jar.filter_cookies(URL(self.app_url)).get(SESSION_COOKIE)
        return cookie.value if cookie else None
