"""Complete sign-ins per second: through the app, and through the provider alone.

Each simulated user is one aiohttp client (cookie jar and connection pool) that signs in
again and again until the time is up, its cookies cleared before each sign-in.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import aiohttp

from benchmarks.stats import percentile
from tests.auth_actions import AuthActions, forms_of

SignIn = Callable[[aiohttp.ClientSession, str], Awaitable[None]]
MAX_HOPS = 10
MAX_PER_USER = 10_000
REDIRECTS = {301, 302, 303, 307, 308}
SCOPES = "openid offline_access profile"  # what the SDK asks for


class FlowError(RuntimeError):
    """A sign-in did not end where it should."""


@dataclass(frozen=True)
class FlowResult:
    """One timed run of concurrent sign-ins."""

    users_per_second: float
    completed: int
    failed: int
    p50_ms: float
    p99_ms: float
    first_error: str | None
    cores: dict[str, float] = field(default_factory=dict)  # part -> cores used meanwhile


def new_client() -> aiohttp.ClientSession:
    """A browser-like client: keeps cookies for 127.0.0.1, pools connections."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def drive(sign_in: SignIn, users: int, seconds: float) -> FlowResult:
    """Run `users` clients signing in with `sign_in` for `seconds`; count completed sign-ins."""
    deadline = time.monotonic() + seconds
    times: list[float] = []
    errors: list[str] = []

    async def user(number: int) -> None:
        async with new_client() as http:
            for _ in range(MAX_PER_USER):
                if time.monotonic() >= deadline:
                    return
                http.cookie_jar.clear()
                started = time.perf_counter()
                try:
                    await sign_in(http, f"bench{number}")
                except (FlowError, AssertionError, aiohttp.ClientError, TimeoutError) as error:
                    errors.append(f"{type(error).__name__}: {error}"[:300])
                    continue
                times.append(time.perf_counter() - started)

    started = time.monotonic()
    await asyncio.gather(*(user(number) for number in range(users)))
    elapsed = time.monotonic() - started
    return FlowResult(
        users_per_second=len(times) / elapsed,
        completed=len(times),
        failed=len(errors),
        p50_ms=percentile(times, 50) * 1000,
        p99_ms=percentile(times, 99) * 1000,
        first_error=errors[0] if errors else None,
    )


def through_app(app_url: str) -> SignIn:
    """A sign-in through the app: /sign-in, the provider's form, /callback, the home page."""

    async def sign_in(http: aiohttp.ClientSession, username: str) -> None:
        landed = await AuthActions(app_url, http).sign_in(username)
        if landed.status != 200 or 'id="sign-out"' not in landed.text:
            raise FlowError(f"ended on {landed.url} ({landed.status}) without being signed in")

    return sign_in


def provider_alone(issuer: str, client_id: str, client_secret: str, redirect_uri: str) -> SignIn:
    """The same authorization-code flow (PKCE, form, consent, token) without the app."""

    async def sign_in(http: aiohttp.ClientSession, username: str) -> None:
        verifier = secrets.token_urlsafe(48)
        query = {
            **{"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code"},
            **{"scope": SCOPES, "prompt": "consent", "state": secrets.token_urlsafe(16)},
            **{"code_challenge": _challenge(verifier), "code_challenge_method": "S256"},
        }
        login = await _walk(http, f"{issuer}/auth?{urlencode(query)}", redirect_uri)
        form = forms_of(login.text)[0]
        target = urljoin(login.url, form.action)
        back = await _walk(http, target, redirect_uri, {**form.fields, "username": username})
        code = parse_qs(urlsplit(back.url).query)["code"][0]
        token_form = {
            **{"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            **{"code_verifier": verifier, "client_id": client_id, "client_secret": client_secret},
        }
        async with http.post(f"{issuer}/token", data=token_form) as response:
            if response.status != 200 or "id_token" not in await response.json():
                raise FlowError(f"token request answered {response.status}")

    return sign_in


class Landing(NamedTuple):
    """Where a walk through redirects stopped: a page, or a redirect to the client."""

    url: str
    text: str


async def _walk(
    http: aiohttp.ClientSession, url: str, stop: str, form: dict[str, str] | None = None
) -> Landing:
    """Request `url` (POST `form` if given), following redirects until a page or to `stop`."""
    for _ in range(MAX_HOPS):
        method = "GET" if form is None else "POST"
        async with http.request(method, url, data=form, allow_redirects=False) as response:
            if response.status not in REDIRECTS:
                if response.status != 200:
                    raise FlowError(f"{url} answered {response.status}")
                return Landing(url, await response.text())
            url, form = urljoin(url, response.headers["Location"]), None
        if url.startswith(stop):
            return Landing(url, "")
    raise FlowError(f"more than {MAX_HOPS} redirects")


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
