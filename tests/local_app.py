"""The app in-process (Quart's test client) on the real local provider, for looking inside."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from quart import Blueprint, Quart
from quart.typing import TestClientProtocol as QuartClient

from app import create_app
from app.oidc.extension import LogtoAuth
from devstack import LocalIdp
from tests.conftest import API_RESOURCE, LOGTO_SCOPES, make_settings

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def local_app(
    redis_url: str,
    idp: LocalIdp,
    port: int,
    *,
    blueprints: Sequence[Blueprint] = (),
    **settings: object,
) -> AsyncIterator[Quart]:
    """The app for `idp` (its redirect URI on `port`, registered there) with `blueprints`,
    start-up run and its endpoint check done; `settings` override the test settings."""
    application = create_app(
        make_settings(
            **{
                "REDIS_URL": redis_url,
                "LOGTO_ENDPOINT": idp.endpoint,
                "LOGTO_APP_ID": idp.client_id,
                "LOGTO_APP_SECRET": idp.client_secret,
                "BASE_URL": f"http://127.0.0.1:{port}",
                "API_RESOURCE": API_RESOURCE,
                "LOGTO_SCOPES": LOGTO_SCOPES,
                **settings,
            }
        )
    )
    for blueprint in blueprints:
        application.register_blueprint(blueprint)
    async with application.test_app():
        check = auth_of(application).endpoint_check
        assert check is not None
        await check
        yield application


def auth_of(application: Quart) -> LogtoAuth:
    """The app's LogtoAuth."""
    auth: LogtoAuth = application.extensions["logto"]
    return auth


def query_of(url: str) -> dict[str, list[str]]:
    """Every query parameter of `url` with all its values."""
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def single_query(url: str) -> dict[str, str]:
    """The query parameters of `url` (the last value of each)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def session_id(client: QuartClient, application: Quart) -> str | None:
    """The session id in `client`'s cookie (None without one)."""
    name = auth_of(application).store.cookie_name(application)
    values = [cookie.value for cookie in client.cookie_jar if cookie.name == name]  # type: ignore[union-attr]
    return values[0] if values else None


async def stored(application: Quart, client: QuartClient) -> dict[str, Any]:
    """What Redis holds for `client`'s session ({} when nothing)."""
    sid = session_id(client, application)
    found = await auth_of(application).store.load_many([sid]) if sid else []
    return found[0].data if found else {}


async def csrf_token_of(client: QuartClient, path: str = "/") -> str:
    """The CSRF token the page at `path` gives `client`'s forms."""
    text = await (await client.get(path)).get_data(as_text=True)
    found = CSRF_FIELD.search(text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)
