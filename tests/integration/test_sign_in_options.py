"""Sign-in options against the real local provider: connector buttons (direct sign-in),
login_hint, and pushed authorization requests (PAR), over real sockets and in-process."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from urllib.parse import urljoin

import aiohttp
import pytest
from quart import Quart
from redis.asyncio import Redis

from app.oidc.provider import ProviderHttp
from app.testing import signed_in
from devstack import AppServer, LocalIdp, free_port
from tests.auth_actions import AuthActions, forms_of
from tests.conftest import (
    API_RESOURCE,
    CLIENT_ID,
    CLIENT_SECRET,
    DIRECT_SIGN_IN,
)
from tests.home_page import signed_in_user
from tests.in_process_sign_in import back_to_the_app, sign_in_in_process
from tests.local_app import auth_of, local_app, query_of, session_id, single_query

CONNECTOR_LINK = re.compile(r'<a class="button connector" href="([^"]+)"[^>]*>([^<]+)</a>')
# Everything an authorization request carries, which a pushed request must carry as well.
AUTHORIZATION_PARAMETERS = {
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "resource",
    "prompt",
    "code_challenge",
    "code_challenge_method",
    "state",
    "nonce",
    "max_age",
}


def connector_buttons(page: str) -> list[tuple[str, str]]:
    """The (href, text) of each connector button of a page."""
    return [(html.unescape(href), text) for href, text in CONNECTOR_LINK.findall(page)]


async def location_of(http: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    """GET `url` without following: status, Location and body."""
    async with http.get(url, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", ""), await response.text()


@pytest.fixture
def options(options_server: AppServer, http: aiohttp.ClientSession) -> AuthActions:
    """A browser on the app with the sign-in options on (connector buttons, PAR)."""
    return AuthActions(options_server.url, http)


@pytest.fixture
async def plain_app(redis_url: str, idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app in-process with the connector buttons and without PAR."""
    async with local_app(redis_url, idp, app_ports[2], LOGTO_DIRECT_SIGN_IN=DIRECT_SIGN_IN) as app:
        yield app


@pytest.fixture
async def par_app(redis_url: str, idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app in-process with PAR on, the provider announcing it."""
    async with local_app(
        redis_url, idp, app_ports[2], LOGTO_DIRECT_SIGN_IN=DIRECT_SIGN_IN, LOGTO_PAR="true"
    ) as app:
        yield app


@pytest.fixture
def pushed(par_app: Quart, monkeypatch: pytest.MonkeyPatch) -> list[list[tuple[str, str]]]:
    """The forms the app pushes to the provider (recorded on their way; the real provider
    answers them)."""
    forms: list[list[tuple[str, str]]] = []
    http = auth_of(par_app).parts.http
    push = ProviderHttp.push_authorization

    async def recording(url: str, form: list[tuple[str, str]]) -> str:
        forms.append(list(form))
        return await push(http, url, form)

    monkeypatch.setattr(http, "push_authorization", recording)
    return forms


# Connector buttons (LOGTO_DIRECT_SIGN_IN)


async def test_the_signed_out_home_shows_one_button_per_connector(options: AuthActions) -> None:
    home = await options.get("/")
    assert connector_buttons(home.text) == [
        ("/sign-in?direct=social:azure-ad", "Continue with Microsoft"),
        ("/sign-in?direct=sso:acme", "Continue with Acme SSO"),
    ]
    assert 'id="sign-in"' in home.text and 'id="sign-up"' in home.text


async def test_without_the_setting_the_home_shows_no_connector_button(auth: AuthActions) -> None:
    assert connector_buttons((await auth.get("/")).text) == []


@pytest.mark.parametrize(
    ("button", "name"), [(0, "Azure AD Demo"), (1, "Acme SSO Demo")], ids=["social", "sso"]
)
async def test_each_button_signs_in_straight_through_its_connector(
    options: AuthActions, options_server: AppServer, button: int, name: str
) -> None:
    href, _ = connector_buttons((await options.get("/")).text)[button]
    landed = await options.get(href)  # no form: the connector's user is signed in at once
    assert landed.url == f"{options_server.url}/", landed.visited
    assert signed_in_user(landed.status, landed.text) == name
    assert connector_buttons(landed.text) == [], "signed in: no buttons"


async def test_direct_sign_in_is_in_the_authorization_request(plain_app: Quart) -> None:
    response = await plain_app.test_client().get("/sign-in?direct=sso:acme&next=/profile")
    assert response.status_code == 302
    query = single_query(response.headers["Location"])
    assert query["direct_sign_in"] == "sso:acme"
    assert query["state"] and query["code_challenge"] and query["nonce"]


@pytest.mark.parametrize(
    "value",
    ["social:google", "sso:other", "social:azure-ad=Microsoft", "Microsoft", "passkey:x", ""],
)
async def test_a_direct_sign_in_not_listed_is_a_400_page(
    options: AuthActions, options_server: AppServer, value: str
) -> None:
    status, location, body = await location_of(
        options.http, f"{options_server.url}/sign-in?direct={value}"
    )
    assert (status, location) == (400, "")
    assert "not offered here" in body and "Traceback" not in body
    assert "sign-in" not in {cookie.key for cookie in options.http.cookie_jar}, "no transaction"


# login_hint


@pytest.mark.parametrize("path", ["/sign-in", "/sign-up"])
async def test_login_hint_is_sent_and_prefills_the_providers_form(
    auth: AuthActions, app_server: AppServer, path: str
) -> None:
    hint = "ann.o'hara@example.test"
    status, location, _ = await location_of(
        auth.http, f"{app_server.url}{path}?login_hint=ann.o%27hara%40example.test"
    )
    assert status == 302 and single_query(location)["login_hint"] == hint
    screen = await auth.get(location)
    assert forms_of(screen.text)[0].fields["username"] == hint


async def test_a_login_hint_of_254_characters_is_sent(
    auth: AuthActions, app_server: AppServer
) -> None:
    hint = "a" * 241 + "@example.test"  # 254 characters
    status, location, _ = await location_of(
        auth.http, f"{app_server.url}/sign-in?login_hint={hint}"
    )
    assert status == 302 and single_query(location)["login_hint"] == hint


@pytest.mark.parametrize(
    "hint",
    ["a" * 242 + "@example.test", "ann%0A@example.test", "ann%00", "a%09b", "%7F", "x%C2%85y"],
    ids=["255-characters", "newline", "nul", "tab", "delete", "c1-control"],
)
@pytest.mark.parametrize("path", ["/sign-in", "/sign-up"])
async def test_a_login_hint_too_long_or_with_control_characters_is_a_400_page(
    auth: AuthActions, app_server: AppServer, path: str, hint: str
) -> None:
    status, location, body = await location_of(
        auth.http, f"{app_server.url}{path}?login_hint={hint}"
    )
    assert (status, location) == (400, "")
    assert "login hint" in body and "Traceback" not in body


# Pushed authorization requests (LOGTO_PAR)


async def test_par_pushes_every_parameter_and_the_browser_gets_only_client_id_and_request_uri(
    par_app: Quart, pushed: list[list[tuple[str, str]]], idp: LocalIdp, http: aiohttp.ClientSession
) -> None:
    client = par_app.test_client()
    start = await client.get("/sign-up?login_hint=parry&next=/profile")
    assert start.status_code == 302
    location = start.headers["Location"]
    assert location.startswith(f"{idp.issuer}/auth?")
    query = query_of(location)
    assert set(query) == {"client_id", "request_uri"}
    assert query["client_id"] == [CLIENT_ID]
    assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")

    [form] = pushed
    names = {name for name, _ in form}
    assert names >= AUTHORIZATION_PARAMETERS | {"interaction_mode", "first_screen", "login_hint"}
    values = dict(form)
    assert (values["client_id"], values["client_secret"]) == (CLIENT_ID, CLIENT_SECRET)
    assert values["login_hint"] == "parry" and values["first_screen"] == "register"
    assert values["interaction_mode"] == "signUp" and values["prompt"] == "consent"
    assert values["max_age"] == str(auth_of(par_app).settings.SESSION_LIFETIME)
    assert values["code_challenge_method"] == "S256" and values["response_type"] == "code"
    resources = [value for name, value in form if name == "resource"]
    assert API_RESOURCE in resources and "urn:logto:resource:organizations" in resources

    # The provider serves the pushed request: its form is pre-filled from the pushed hint.
    async with http.get(location) as screen:
        page, url = await screen.text(), str(screen.url)
    assert "<h1>Create account</h1>" in page
    form_fields = forms_of(page)[0]
    assert form_fields.fields["username"] == "parry"
    data = {**form_fields.fields, "username": "parry"}
    async with http.post(urljoin(url, form_fields.action), data=data, allow_redirects=False) as r:
        answer = urljoin(url, r.headers["Location"])
    callback = await back_to_the_app(client, http, url, answer)
    assert callback.status_code == 302 and callback.headers["Location"] == "/profile"
    profile = await (await client.get("/profile")).get_data(as_text=True)
    assert "Profile of Parry" in profile


async def test_par_carries_the_connector_of_a_button(
    par_app: Quart, pushed: list[list[tuple[str, str]]], http: aiohttp.ClientSession
) -> None:
    client = par_app.test_client()
    start = await client.get("/sign-in?direct=social:azure-ad")
    assert set(query_of(start.headers["Location"])) == {"client_id", "request_uri"}
    assert ("direct_sign_in", "social:azure-ad") in pushed[0]
    async with http.get(start.headers["Location"], allow_redirects=False) as hop:
        provider_url, location = str(hop.url), urljoin(str(hop.url), hop.headers["Location"])
    callback = await back_to_the_app(client, http, provider_url, location)
    assert callback.status_code == 302, await callback.get_data(as_text=True)
    home = await client.get("/")
    assert signed_in_user(home.status_code, await home.get_data(as_text=True)) == "Azure AD Demo"


async def test_the_par_server_sends_the_browser_with_only_client_id_and_request_uri(
    options: AuthActions, options_server: AppServer, idp: LocalIdp
) -> None:
    status, location, _ = await location_of(
        options.http, f"{options_server.url}/sign-in?login_hint=pat"
    )
    assert status == 302 and location.startswith(f"{idp.issuer}/auth?")
    assert set(query_of(location)) == {"client_id", "request_uri"}
    screen = await options.get(location)
    landed = await options.submit(screen, forms_of(screen.text)[0], username="pat")
    assert signed_in_user(landed.status, landed.text) == "Pat"


async def test_a_refused_pushed_request_is_a_502_page(
    redis_url: str, idp: LocalIdp, app_ports: list[int]
) -> None:
    async with local_app(
        redis_url, idp, app_ports[2], LOGTO_PAR="true", LOGTO_APP_SECRET="not-the-secret"
    ) as application:
        response = await application.test_client().get("/sign-in")
    text = await response.get_data(as_text=True)
    assert response.status_code == 502 and "Location" not in response.headers
    assert "refused the sign-in request (invalid_client)" in text and idp.endpoint in text


# A provider that does not announce PAR


@pytest.fixture(scope="module")
def idp_without_par() -> Iterator[tuple[LocalIdp, int]]:
    """The local provider with PAR off (not in its discovery, /oidc/request 404), and the app
    port it knows."""
    port = free_port()
    with LocalIdp(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"http://127.0.0.1:{port}/callback"],
        post_logout_redirect_uris=[f"http://127.0.0.1:{port}/"],
        api_resources={API_RESOURCE: ["read:profile"]},
        par=False,
    ) as provider:
        yield provider, port


async def test_without_par_at_the_provider_plain_requests_and_one_log_line(
    redis_url: str,
    idp_without_par: tuple[LocalIdp, int],
    http: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider, port = idp_without_par
    with caplog.at_level(logging.INFO):
        async with local_app(
            redis_url, provider, port, LOGTO_PAR="true", LOGTO_SCOPES="email"
        ) as application:
            client = application.test_client()
            locations = [(await client.get("/sign-in")).headers["Location"] for _ in range(3)]
            callback = await sign_in_in_process(client, http, "plainuser")
    lines = [r.getMessage() for r in caplog.records if "pushed_authorization" in r.getMessage()]
    assert len(lines) == 1, lines
    assert provider.endpoint in lines[0] and "LOGTO_PAR" in lines[0]
    for location in locations:
        assert location.startswith(f"{provider.issuer}/auth?")
        assert set(query_of(location)) >= AUTHORIZATION_PARAMETERS
        assert "request_uri" not in query_of(location)
    assert callback.status_code == 302, await callback.get_data(as_text=True)


async def test_par_announced_and_used_logs_nothing_at_start(
    redis_url: str, idp: LocalIdp, app_ports: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        async with local_app(redis_url, idp, app_ports[2], LOGTO_PAR="true"):
            pass
    assert not [r for r in caplog.records if "pushed_authorization" in r.getMessage()]


# The signed-in home stays one Redis round trip, no write


@asynccontextmanager
async def redis_commands(redis_url: str) -> AsyncIterator[list[str]]:
    """Every command Redis receives inside the block (via MONITOR)."""
    client = Redis.from_url(redis_url, decode_responses=True)
    seen: list[str] = []
    try:
        async with client.monitor() as monitor:
            ready = asyncio.Event()

            async def watch() -> None:
                ready.set()
                async for command in monitor.listen():
                    seen.append(command["command"])

            watcher = asyncio.create_task(watch())
            await ready.wait()
            try:
                yield seen
                await asyncio.sleep(0.2)  # let the last commands arrive
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
    finally:
        await client.aclose()


async def test_the_signed_in_home_with_buttons_configured_is_one_redis_read(
    plain_app: Quart, redis_url: str
) -> None:
    async with signed_in(plain_app, sub="user-home", name="Hana") as client:
        await client.get("/")  # the first request may mark the session as seen
        async with redis_commands(redis_url) as commands:
            for _ in range(3):
                response = await client.get("/")
                assert signed_in_user(response.status_code, await response.get_data(as_text=True))
        sid = session_id(client, plain_app)
    mine = [command.split()[0].upper() for command in commands if f"session:{{{sid}}}" in command]
    # At most one read per page (none when the worker's session cache answers), no write.
    assert len(mine) <= 3 and set(mine) <= {"MGET"}, mine
