"""Framing is refused on every response, error pages and static files included; HSTS under
https; pages carry the content security policy, nosniff and no-store."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from quart import Quart
from werkzeug.datastructures import Headers

from tests.unit.offline_app import SESSION_ID, offline_app

ONE_YEAR = 365 * 24 * 3600
BASE_URLS = {"https": "https://app.example", "http": "http://localhost:3000"}


@dataclass(frozen=True)
class Request:
    """A request and the status that shows it reached the kind of response it is meant to."""

    method: str
    path: str
    status: int
    with_session: bool = False


REQUESTS = {
    "page": Request("GET", "/", 200),
    "sign-out-page": Request("GET", "/sign-out", 200),
    "redirect": Request("GET", "/profile", 302),
    "static-file": Request("GET", "/static/app.css", 200),
    "json": Request("GET", "/healthz", 200),
    "not-found-page": Request("GET", "/no-such-page", 404),
    "method-not-allowed-page": Request("POST", "/", 405),
    "forbidden-page": Request("POST", "/sign-out", 403),
    "unexpected-error-page": Request("GET", "/_test/boom", 500),
    "provider-down-page": Request("GET", "/sign-in", 502),
    "redis-down-page": Request("GET", "/", 503, with_session=True),
}


@pytest.fixture(params=list(BASE_URLS.values()), ids=list(BASE_URLS))
def base_url(request: pytest.FixtureRequest) -> str:
    """An https and an http BASE_URL."""
    url: str = request.param
    return url


@pytest.fixture
async def app(base_url: str) -> AsyncIterator[Quart]:
    """The app under `base_url`, with a route that fails."""
    async with offline_app(BASE_URL=base_url) as served:

        @served.get("/_test/boom")
        async def boom() -> str:
            raise RuntimeError("boom")

        yield served


async def fetch(app: Quart, request: Request) -> Headers:
    """The headers of the answer to `request`, after checking its status."""
    client = app.test_client()
    if request.with_session:
        name = app.config["SESSION_COOKIE_NAME"]
        client.set_cookie("localhost", name, SESSION_ID)
    send = client.post if request.method == "POST" else client.get
    response = await send(request.path)
    assert response.status_code == request.status, await response.get_data(as_text=True)
    return response.headers


def directives(csp: str) -> dict[str, str]:
    """A Content-Security-Policy as directive name -> its value."""
    pairs = (part.strip().partition(" ") for part in csp.split(";") if part.strip())
    return {name.lower(): value.strip() for name, _, value in pairs}


@pytest.mark.parametrize("request_", list(REQUESTS.values()), ids=list(REQUESTS))
async def test_no_response_can_be_framed(app: Quart, request_: Request) -> None:
    headers = await fetch(app, request_)
    assert headers.getlist("X-Frame-Options") == ["DENY"]
    [csp] = headers.getlist("Content-Security-Policy")
    assert directives(csp).get("frame-ancestors") == "'none'", csp


@pytest.mark.parametrize("request_", list(REQUESTS.values()), ids=list(REQUESTS))
async def test_hsts_is_sent_exactly_when_base_url_is_https(
    app: Quart, base_url: str, request_: Request
) -> None:
    headers = await fetch(app, request_)
    sent = headers.getlist("Strict-Transport-Security")
    if not base_url.startswith("https://"):
        assert sent == [], "HSTS over plain http would pin a host that has no https"
        return
    assert len(sent) == 1, sent
    max_age = re.fullmatch(r"\s*max-age=(\d+)\s*(;.*)?", sent[0], flags=re.IGNORECASE)
    assert max_age is not None and int(max_age.group(1)) >= ONE_YEAR, sent[0]


async def test_pages_carry_security_headers(app: Quart) -> None:
    response = await app.test_client().get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
