"""GET /api/me and the require_access_token guard: a real access token from the local
provider, and the tokens only a hostile provider signs (forged, expired, foreign, ...)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from quart import Quart
from quart.typing import ResponseReturnValue

from app.auth import access_token_claims, login_required, logto, require_access_token
from devstack import LocalIdp
from devstack.idp import API_SCOPES
from tests.conftest import API_RESOURCE, LOGTO_SCOPES
from tests.conftest import CLIENT_ID as TEST_CLIENT_ID
from tests.hostile_provider import CLIENT_ID, HostileProvider, Token, TokenKind, serving_app
from tests.in_process_sign_in import in_process_settings, serving_in_process, sign_in_in_process

RESOURCE = "https://api.example.test"
ACCESS_TOKENS = TokenKind(
    "at+jwt",
    lambda provider: {  # for RESOURCE, valid for 10 minutes
        "iss": provider.issuer,
        "aud": RESOURCE,
        "sub": "api-user-1",
        "client_id": CLIENT_ID,
        "scope": "read:profile write:profile",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
        "jti": "an-id",
    },
)
access_token = ACCESS_TOKENS.token


@pytest.fixture
async def api_app(redis_url: str, hostile: HostileProvider) -> AsyncIterator[Quart]:
    """The app with an API, plus a route that needs the write:profile scope."""
    async with serving_app(hostile, redis_url, API_RESOURCE=RESOURCE) as app:

        @app.get("/api/_test/write")
        @require_access_token("write:profile", "admin:all")
        async def needs_scopes() -> ResponseReturnValue:
            return {"sub": access_token_claims()["sub"]}

        yield app


@pytest.fixture
async def real_api_app(redis_url: str, idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app with an API on the real provider, plus a page that shows the signed-in user's
    access token for it (what a page of the app would send to the API)."""
    settings = in_process_settings(
        idp, redis_url, app_ports, API_RESOURCE=API_RESOURCE, LOGTO_SCOPES=LOGTO_SCOPES
    )
    async with serving_in_process(settings) as app:

        @app.get("/_test/access-token")
        @login_required
        async def users_access_token() -> ResponseReturnValue:
            return {"token": await logto.access_token(API_RESOURCE)}

        yield app


async def real_access_token(app: Quart, http: aiohttp.ClientSession, username: str) -> str:
    """An access token for API_RESOURCE that the real provider issued to `username`."""
    client = app.test_client()
    assert (await sign_in_in_process(client, http, username)).status_code == 302
    token: str = (await (await client.get("/_test/access-token")).get_json())["token"]
    return token


async def call(app: Quart, authorization: str | None, path: str = "/api/me") -> Any:
    """GET `path` with that Authorization header; the response."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await app.test_client().get(path, headers=headers)


async def test_a_valid_access_token_gets_json_and_no_session(
    real_api_app: Quart, http: aiohttp.ClientSession
) -> None:
    token = await real_access_token(real_api_app, http, "api-user")
    response = await call(real_api_app, f"Bearer {token}")
    assert response.status_code == 200
    answer = await response.get_json()
    assert {**answer, "scope": sorted(answer["scope"])} == {
        "sub": "user_" + hashlib.sha256(b"api-user").hexdigest()[:12],  # the provider's id
        "scope": sorted(API_SCOPES),
        "client_id": TEST_CLIENT_ID,
    }
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer  "])
async def test_no_bearer_token_is_a_401_challenge(
    real_api_app: Quart, authorization: str | None
) -> None:
    response = await call(real_api_app, authorization)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{API_RESOURCE}"'
    assert response.content_type == "application/json"
    assert (await response.get_json())["error"] == "missing_token"


REFUSED: list[Any] = [
    pytest.param(lambda p: p.sign(), id="id-token-as-bearer"),
    pytest.param(access_token(aud="https://other.example"), id="other-audience"),
    pytest.param(access_token(aud=CLIENT_ID), id="client-audience"),
    pytest.param(access_token(exp=int(time.time()) - 120), id="expired"),
    pytest.param(access_token(nbf=int(time.time()) + 600), id="not-yet-valid"),
    pytest.param(access_token(iss="https://evil.example/oidc"), id="other-issuer"),
    pytest.param(access_token(sub=None), id="no-sub"),
    pytest.param(ACCESS_TOKENS.unsigned(), id="alg-none"),
    pytest.param(ACCESS_TOKENS.hs256_with_the_public_key(), id="hs256-with-the-public-key"),
    pytest.param(ACCESS_TOKENS.typed("JWT"), id="typ-jwt"),
    pytest.param(ACCESS_TOKENS.typed(None), id="no-typ"),
    pytest.param(
        ACCESS_TOKENS.by_the_attacker_under_the_providers_kid(),
        id="attacker-key-under-the-providers-kid",
    ),
    pytest.param(lambda p: "not.a.jwt", id="garbage"),
    pytest.param(lambda p: "x" * 20_000, id="huge"),
]


@pytest.mark.parametrize("token", REFUSED)
async def test_a_bad_access_token_is_a_401_invalid_token(
    api_app: Quart, hostile: HostileProvider, token: Token
) -> None:
    response = await call(api_app, f"Bearer {token(hostile)}")
    body = await response.get_json()
    assert response.status_code == 401, body
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="{RESOURCE}", error="invalid_token"')
    assert body["error"] == "invalid_token"
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers


async def test_a_missing_scope_is_a_403_insufficient_scope(
    api_app: Quart, hostile: HostileProvider
) -> None:
    response = await call(api_app, f"Bearer {access_token()(hostile)}", "/api/_test/write")
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="write:profile admin:all"' in response.headers["WWW-Authenticate"]
    assert "admin:all" in (await response.get_json())["error_description"]
    allowed = access_token(scope="write:profile admin:all")(hostile)
    response = await call(api_app, f"Bearer {allowed}", "/api/_test/write")
    assert response.status_code == 200


async def test_without_api_resource_the_api_is_a_json_404(
    real_api_app: Quart, idp_app: Quart, http: aiohttp.ClientSession
) -> None:
    token = await real_access_token(real_api_app, http, "api-less")  # valid for API_RESOURCE
    response = await call(idp_app, f"Bearer {token}")  # an app with no API_RESOURCE
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert json.loads(await response.get_data(as_text=True))["error"] == "page_not_found"


async def test_unknown_api_paths_answer_json(real_api_app: Quart) -> None:
    response = await call(real_api_app, None, "/api/nothing-here")
    assert response.status_code == 404 and response.content_type == "application/json"
