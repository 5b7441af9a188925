"""Log lines: one per request with the id the client saw, JSON or text, and never a secret."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from app import create_app
from app.sessions.data import claims_of, token_fields
from app.sessions.store import SessionStore
from devstack import AppServer, free_port
from tests.auth_actions import AuthActions
from tests.conftest import CLIENT_SECRET, SECRET_KEY, make_settings, provider_for, server_settings
from tests.stored_session import stored

VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
KEPT_ID = "support-ticket.4711_a"
JSON_FIELDS = {"time", "level", "logger", "message"}


@dataclass
class Seen:
    """What the client saw of the app: each response's id and status, cookies, codes."""

    app_url: str
    responses: list[tuple[str, int, str]] = field(default_factory=list)  # (url, status, id)
    secrets: set[str] = field(default_factory=set)

    def record(self, response: aiohttp.ClientResponse) -> None:
        """Note a response: its request id if the app sent it, its cookies, a code it carries."""
        if str(response.url).startswith(self.app_url):
            request_id = response.headers.get("X-Request-ID", "")
            self.responses.append((str(response.url), response.status, request_id))
            for cookie in response.cookies.values():
                if cookie.value:
                    self.secrets.add(cookie.value)
        location = response.headers.get("Location", "")
        if "/callback?" in location:
            query = parse_qs(urlsplit(location).query)
            self.secrets.update(query.get("code", []) + query.get("state", []))


@pytest.fixture(scope="module", params=["json", "text"])
def logged_server(request: pytest.FixtureRequest, redis_url: str) -> Iterator[AppServer]:
    """The app logging every request (ACCESS_LOG=1) in one LOG_FORMAT, all output kept."""
    port = free_port()
    with provider_for([port]) as idp:
        settings = {
            **server_settings(idp, redis_url, port),
            "LOG_FORMAT": request.param,
            "ACCESS_LOG": "1",
        }
        with AppServer(settings, port=port, workers=2, keep_lines=100_000) as server:
            yield server


@pytest.fixture
async def watched(logged_server: AppServer) -> Any:
    """A browser whose every response from the app is recorded in `seen`."""
    seen = Seen(logged_server.url)

    async def on_end(_: Any, __: Any, params: Any) -> None:
        seen.record(params.response)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    trace.on_request_redirect.append(on_end)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, trace_configs=[trace]) as http:
        yield SimpleNamespace(seen=seen, browser=AuthActions(logged_server.url, http), http=http)


async def test_every_request_logs_the_id_its_client_saw_and_no_secret(
    logged_server: AppServer, watched: Any, store: SessionStore
) -> None:
    seen: Seen = watched.seen
    browser: AuthActions = watched.browser
    kept = await request_id_of(watched.http, logged_server.url, KEPT_ID)
    replaced = [
        await request_id_of(watched.http, logged_server.url, bad)
        for bad in ("two words", "x" * 129, 'quote"d', "")
    ]

    landed = await browser.sign_in("logged")
    assert landed.status == 200
    session_id = browser.session_id() or ""
    at_sign_in = (await stored(store, session_id)).data
    assert (await browser.get("/profile")).status == 200  # no refresh
    assert (await browser.get("/call-api")).status == 200  # refreshes the API token
    tokens = credentials_in(at_sign_in) | credentials_in((await stored(store, session_id)).data)
    await browser.sign_out()
    callback = next(url for url, status, _ in seen.responses if "/callback?" in url)
    assert (await browser.get(callback)).status == 400  # replayed: its code and state logged?

    assert kept == KEPT_ID
    assert all(VALID_ID.fullmatch(rid) and rid != KEPT_ID for rid in replaced), replaced
    ids = [rid for _, _, rid in seen.responses]
    assert all(ids) and len(set(ids)) == len(ids), "each response has its own id"
    lines = await output_with(logged_server, ids)

    if "json" in logged_server.env["LOG_FORMAT"]:
        records = [json.loads(line) for line in lines]  # every line is JSON
        assert all(set(record) >= JSON_FIELDS for record in records)
        request_lines = {r["request_id"]: r for r in records if r["logger"] == "app.request"}
        for url, status, rid in seen.responses:
            assert request_lines[rid]["status"] == status, (url, request_lines[rid])
            assert request_lines[rid]["duration_ms"] >= 0
        profile = next(rid for url, _, rid in seen.responses if url.endswith("/profile"))
        assert request_lines[profile]["route"] == "/profile"
        assert request_lines[profile]["sub"] == (claims_of(at_sign_in) or {})["sub"]
    else:
        for url, _, rid in seen.responses:
            assert any(f"request_id={rid}:" in line for line in lines), url

    secrets = {
        SECRET_KEY,
        CLIENT_SECRET,
        session_id,
        *seen.secrets,
        *tokens,
    }
    assert len(tokens) >= 4, tokens  # ID, refresh, userinfo and API access tokens
    output = "\n".join(lines)

    leaked = [secret[:12] + "..." for secret in secrets if secret in output]
    assert not leaked, f"secrets in the log: {leaked}"


async def request_id_of(http: aiohttp.ClientSession, app_url: str, incoming: str) -> str:
    """The X-Request-ID the app answers to a request that sent `incoming` as its own."""
    async with http.get(f"{app_url}/healthz", headers={"X-Request-ID": incoming}) as response:
        assert response.status == 200
        return response.headers["X-Request-ID"]


def credentials_in(data: dict[str, Any]) -> set[str]:
    """Every token the SDK keeps in a session's stored `data` (ID, refresh and access tokens)."""
    found: set[str] = set()

    def walk(value: Any, key: str) -> None:
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict | list):
                walk(parsed, key)
            elif "token" in key.lower() and len(value) >= 16:
                found.add(value)
        elif isinstance(value, dict):
            for name, item in value.items():
                walk(item, f"{key}.{name}")
        elif isinstance(value, list):
            for item in value:
                walk(item, key)

    for name, value in token_fields(data).items():
        walk(value, name)
    return found


async def output_with(server: AppServer, request_ids: list[str]) -> list[str]:
    """The server's output lines, once every one of `request_ids` is in them."""
    deadline = time.monotonic() + 10
    while True:
        lines = server.output()
        text = "\n".join(lines)
        missing = [rid for rid in request_ids if rid not in text]
        if not missing:
            return lines
        assert time.monotonic() < deadline, f"request ids never logged: {missing}"
        await asyncio.sleep(0.1)


async def test_an_error_page_shows_the_id_that_its_log_lines_carry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_app(
        make_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", LOG_FORMAT="json")
    )
    async with app.test_app():
        cookie = {"Cookie": f"session={'a' * 43}", "X-Request-ID": KEPT_ID}
        response = await app.test_client().get("/", headers=cookie)
        page = await response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["X-Request-ID"] == KEPT_ID
    assert f"Request ID: <code>{KEPT_ID}</code>" in page
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    opening = next(r for r in records if "opening a session" in r["message"])
    assert opening["request_id"] == KEPT_ID, "logged while reading the session, before any hook"
    answered = next(r for r in records if r["logger"] == "app.request")
    assert (answered["request_id"], answered["status"]) == (KEPT_ID, 503)
