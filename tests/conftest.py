"""Shared fixtures: real Redis, app factory with test settings, test client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis

from app import create_app
from app.config import Settings
from app.sessions.store import SessionStore
from devstack import AppServer, LocalIdp, RedisServer, free_port
from devstack.idp import (
    API_SCOPES,
    ORGANIZATION_PERMISSIONS,
    ORGANIZATION_ROLES_SCOPE,
    ORGANIZATIONS_SCOPE,
)
from tests.auth_actions import AuthActions
from tests.stored_session import opened_store

CLIENT_ID = "test-app"
CLIENT_SECRET = "test-app-secret"
SECRET_KEY = "test-secret-key-of-at-least-32-characters"
API_RESOURCE = "https://api.logto-quart.test"  # an identifier: it need not resolve
LOGTO_SCOPES = " ".join(
    ["email", ORGANIZATIONS_SCOPE, ORGANIZATION_ROLES_SCOPE, *ORGANIZATION_PERMISSIONS, *API_SCOPES]
)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: REDIS_URL when CI provides one, else the pip-installed server."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    with RedisServer() as server:
        yield server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client on the test Redis, for looking at what the app stored."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def make_settings(**overrides: object) -> Settings:
    """Test settings that ignore the developer's `.env`."""
    values: dict[str, object] = {"APP_ENV": "test", "SECRET_KEY": SECRET_KEY, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[SessionStore]:
    """The app's session store on the test Redis, to read what the app stored as it reads it."""
    async with opened_store(make_settings(REDIS_URL=redis_url)) as opened:
        yield opened


@pytest.fixture
async def app(redis_url: str) -> AsyncIterator[Quart]:
    """The app from the factory on the test Redis, with its start-up hooks run."""
    application = create_app(make_settings(REDIS_URL=redis_url))
    async with application.test_app():
        yield application


@pytest.fixture
def client(app: Quart) -> QuartClient:
    """A test client for `app`."""
    return app.test_client()


@pytest.fixture(scope="session")
def app_ports() -> list[int]:
    """Ports for the app processes (the two below and `options_server`), known before the
    provider registers them."""
    return [free_port(), free_port(), free_port()]


def provider_for(app_ports: list[int], access_token_ttl: int | None = None) -> LocalIdp:
    """The local provider (not started) with the apps on `app_ports` registered as one client,
    this app's API as a resource, Logto's organizations, and back-channel logout to the first
    app (ID tokens then carry `sid`; the apps share one Redis, so one URI serves them all)."""
    origins = [f"http://127.0.0.1:{port}" for port in app_ports]
    return LocalIdp(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{origin}/callback" for origin in origins],
        post_logout_redirect_uris=[f"{origin}/" for origin in origins],
        access_token_ttl=access_token_ttl,
        api_resources={API_RESOURCE: API_SCOPES},
        backchannel_logout_uri=f"{origins[0]}/backchannel-logout",
    )


@pytest.fixture(scope="session")
def idp(app_ports: list[int]) -> Iterator[LocalIdp]:
    """The real local OpenID provider, with both app processes registered as one client."""
    with provider_for(app_ports) as provider:
        yield provider


def production_settings(
    endpoint: str, client: tuple[str, str], redis_url: str, port: int
) -> dict[str, str]:
    """Production settings for an app process on `port` that signs in at `endpoint` as
    `client` (its id and secret)."""
    client_id, client_secret = client
    return {
        "APP_ENV": "production",
        "LOGTO_ENDPOINT": endpoint,
        "LOGTO_APP_ID": client_id,
        "LOGTO_APP_SECRET": client_secret,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET_KEY,
    }


def server_settings(idp: LocalIdp, redis_url: str, port: int) -> dict[str, str]:
    """Production settings for an app process on `port`, with this app's API and scopes."""
    settings = production_settings(idp.endpoint, (CLIENT_ID, CLIENT_SECRET), redis_url, port)
    return {**settings, "API_RESOURCE": API_RESOURCE, "LOGTO_SCOPES": LOGTO_SCOPES}


@pytest.fixture(scope="session")
def app_server(idp: LocalIdp, redis_url: str, app_ports: list[int]) -> Iterator[AppServer]:
    """The app served by hypercorn through the Procfile command, 2 workers."""
    port = app_ports[0]
    with AppServer(server_settings(idp, redis_url, port), port=port, workers=2) as server:
        yield server


@pytest.fixture(scope="session")
def second_app_server(idp: LocalIdp, redis_url: str, app_ports: list[int]) -> Iterator[AppServer]:
    """Another app process (think: another host) on the same Redis, 1 worker."""
    port = app_ports[1]
    with AppServer(server_settings(idp, redis_url, port), port=port, workers=1) as server:
        yield server


# The sign-in options the `options_server` offers (the dev command's demo buttons too).
DIRECT_SIGN_IN = "social:azure-ad=Microsoft sso:acme=Acme SSO"


@pytest.fixture(scope="session")
def options_server(idp: LocalIdp, redis_url: str, app_ports: list[int]) -> Iterator[AppServer]:
    """The app with the sign-in options on: connector buttons (LOGTO_DIRECT_SIGN_IN) and
    pushed authorization requests (LOGTO_PAR), 1 worker, on the same provider and Redis."""
    port = app_ports[2]
    settings = {
        **server_settings(idp, redis_url, port),
        "LOGTO_DIRECT_SIGN_IN": DIRECT_SIGN_IN,
        "LOGTO_PAR": "true",
    }
    with AppServer(settings, port=port, workers=1) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A fresh cookie-keeping HTTP client: one browser profile."""
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        yield session


@pytest.fixture
def auth(app_server: AppServer, http: aiohttp.ClientSession) -> AuthActions:
    """Sign-in and sign-out actions against the served app."""
    return AuthActions(app_server.url, http)
