"""Failed callbacks, an unreachable provider or Redis: pages, never tracebacks."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from quart.typing import TestClientProtocol as QuartClient
from werkzeug.datastructures import Headers

from app import create_app
from devstack import AppServer, free_port
from tests.auth_actions import AuthActions
from tests.conftest import make_settings
from tests.home_page import greeted_on


def assert_error_page(status: int, text: str, expected_status: int, words: str) -> None:
    assert status == expected_status, text
    assert words in text
    assert "Traceback" not in text and 'File "' not in text


async def start_sign_in(auth: AuthActions, app_server: AppServer) -> str:
    """Begin a sign-in and return the state the app sent to the provider."""
    async with auth.http.get(f"{app_server.url}/sign-in", allow_redirects=False) as resp:
        assert resp.status == 302
        return parse_qs(urlsplit(resp.headers["Location"]).query)["state"][0]


async def test_callback_with_wrong_state_is_a_400_page(
    auth: AuthActions, app_server: AppServer
) -> None:
    await start_sign_in(auth, app_server)
    page = await auth.get("/callback?code=some-code&state=not-the-state")
    assert_error_page(page.status, page.text, 400, "unknown or expired")
    assert "Sign in again" in page.text


async def test_callback_without_sign_in_in_progress_is_a_400_page(auth: AuthActions) -> None:
    page = await auth.get("/callback?code=some-code&state=some-state")
    assert_error_page(page.status, page.text, 400, "unknown or expired")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        pytest.param("error=access_denied&error_description=denied", "access_denied", id="error"),
        pytest.param("code=made-up-code", "invalid_grant", id="unknown-code"),
    ],
)
async def test_callback_the_provider_refused_is_a_400_page(
    auth: AuthActions, app_server: AppServer, query: str, says: str
) -> None:
    state = await start_sign_in(auth, app_server)
    page = await auth.get(f"/callback?{query}&state={state}")
    assert_error_page(page.status, page.text, 400, says)


async def test_replayed_callback_takes_a_signed_in_user_home_still_signed_in(
    auth: AuthActions, app_server: AppServer
) -> None:
    home = await auth.sign_in("replayer")
    callback_url = next(url for url in home.visited if "/callback?" in url)
    replay = await auth.get(callback_url)
    assert replay.status == 200 and replay.url == f"{app_server.url}/"
    assert greeted_on(replay) == "Replayer" and "Sign in again" not in replay.text


async def test_replayed_callback_in_another_browser_is_a_400_page(
    auth: AuthActions, app_server: AppServer
) -> None:
    home = await auth.sign_in("replayed")
    callback_url = next(url for url in home.visited if "/callback?" in url)
    async with aiohttp.ClientSession() as other_browser:
        replay = await AuthActions(app_server.url, other_browser).get(callback_url)
    assert_error_page(replay.status, replay.text, 400, "unknown or expired")


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A fault: a provider that accepts connections and never answers (cannot be made otherwise)."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def get_page(client: QuartClient, path: str) -> tuple[int, str, Headers]:
    response = await client.get(path)
    return response.status_code, await response.get_data(as_text=True), response.headers


async def test_unreachable_provider_is_a_502_page(redis_url: str) -> None:
    settings = make_settings(REDIS_URL=redis_url, LOGTO_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    app = create_app(settings)
    async with app.test_app():
        status, text, _ = await get_page(app.test_client(), "/sign-in")
    assert_error_page(status, text, 502, "could not be reached")


async def test_silent_provider_is_a_504_page_within_the_timeout(
    redis_url: str, silent_port: int
) -> None:
    settings = make_settings(
        REDIS_URL=redis_url, LOGTO_ENDPOINT=f"http://127.0.0.1:{silent_port}", PROVIDER_TIMEOUT=0.5
    )
    app = create_app(settings)
    async with app.test_app():
        started = asyncio.get_running_loop().time()
        status, text, _ = await get_page(app.test_client(), "/sign-in")
        waited = asyncio.get_running_loop().time() - started
    assert_error_page(status, text, 504, "did not answer in time")
    assert waited < 5, "bounded by PROVIDER_TIMEOUT, not aiohttp's 5 minute default"


async def test_unreachable_redis_is_a_503_page_and_not_ready() -> None:
    settings = make_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", REDIS_TIMEOUT=0.5)
    app = create_app(settings)
    async with app.test_app():
        client = app.test_client()
        client.set_cookie("127.0.0.1", "session", secrets.token_urlsafe(32))  # a returning visitor
        status, text, headers = await get_page(client, "/")
        assert_error_page(status, text, 503, "session store is not reachable")
        assert headers["Retry-After"] == "5"
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
