"""The app in-process (Quart's test client) on the real local provider, and signing in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urljoin, urlsplit

import aiohttp
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from quart.wrappers import Response

from app import create_app
from app.config import Settings
from app.oidc.extension import EXTENSION
from devstack import LocalIdp
from tests.auth_actions import forms_of
from tests.conftest import CLIENT_ID, CLIENT_SECRET, make_settings

MAX_HOPS = 10


def in_process_settings(
    idp: LocalIdp, redis_url: str, app_ports: list[int], **overrides: object
) -> Settings:
    """Test settings for an in-process app that signs in through `idp`: its BASE_URL is the
    first app port's origin, whose callback the provider has registered (see conftest)."""
    return make_settings(
        **{
            "REDIS_URL": redis_url,
            "LOGTO_ENDPOINT": idp.endpoint,
            "LOGTO_APP_ID": CLIENT_ID,
            "LOGTO_APP_SECRET": CLIENT_SECRET,
            "BASE_URL": f"http://127.0.0.1:{app_ports[0]}",
            **overrides,
        }
    )


@asynccontextmanager
async def serving_in_process(settings: Settings) -> AsyncIterator[Quart]:
    """The app from `settings` with its start-up (and shutdown) hooks run, its start-up check
    of the provider done."""
    app = create_app(settings)
    async with app.test_app():
        await app.extensions[EXTENSION].endpoint_check
        yield app


async def sign_in_in_process(
    client: QuartClient,
    http: aiohttp.ClientSession,
    username: str,
    path: str = "/sign-in",
    **fields: str,
) -> Response:
    """Start at `path` on the app, sign in as `username` at the provider with `http` (its
    cookie jar is the browser's on the provider's side; `fields` go with the form, e.g.
    auth_age), and return the app's callback response."""
    start = await client.get(path)
    assert start.status_code == 302, await start.get_data(as_text=True)
    async with http.get(start.headers["Location"]) as login:
        text, url = await login.text(), str(login.url)
    form = forms_of(text)[0]
    data = {**form.fields, **fields, "username": username}
    async with http.post(urljoin(url, form.action), data=data, allow_redirects=False) as answer:
        location = urljoin(url, answer.headers.get("Location", ""))
    return await back_to_the_app(client, http, url, location)


async def back_to_the_app(
    client: QuartClient, http: aiohttp.ClientSession, provider_url: str, location: str
) -> Response:
    """Follow the provider's redirects from `location` until they reach the app (any other
    origin than `provider_url`'s), and return the app's answer there (the callback)."""
    app_origin = urlsplit(provider_url)  # the provider, for now
    for _ in range(MAX_HOPS):
        parts = urlsplit(location)
        if parts.netloc != app_origin.netloc:  # back at the app: the callback
            response: Response = await client.get(f"{parts.path}?{parts.query}")
            return response
        async with http.get(location, allow_redirects=False) as hop:
            location = urljoin(location, hop.headers.get("Location", ""))
    raise AssertionError(f"the provider never sent the browser back: {location}")


async def browser_signed_in(app: Quart, username: str) -> QuartClient:
    """A new browser (its own provider session too) signed in to `app` as `username`."""
    client = app.test_client()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        callback = await sign_in_in_process(client, http, username)
        assert callback.status_code == 302, await callback.get_data(as_text=True)
    return client
