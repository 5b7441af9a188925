"""Sign in to an in-process app (Quart's test client) through the real local provider."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import aiohttp
from quart.typing import TestClientProtocol as QuartClient
from quart.wrappers import Response

from tests.auth_actions import forms_of

MAX_HOPS = 10


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
