"""POST /backchannel-logout: the OpenID Foundation's back-channel RP cases, and more.

Logout tokens come from the hostile provider: it signs what the real one cannot (no event,
a nonce, alg none, another audience, ...). Each refused token must end nothing.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient
from redis.asyncio import Redis

from devstack import RedisServer
from tests.home_page import is_signed_in, is_signed_out, signed_in_as
from tests.hostile_provider import (
    CLIENT_ID,
    USER,
    HostileProvider,
    Token,
    TokenKind,
    serving_app,
    sign_in,
)
from tests.in_process_sign_in import sign_in_in_process

EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKENS = TokenKind(
    "logout+jwt",
    lambda provider: {  # for the provider's session of the test user, a fresh jti each time
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "iat": int(time.time()),
        "jti": secrets.token_urlsafe(12),
        "events": {EVENT: {}},
        "sub": USER["sub"],
        "sid": provider.logto_sid,
    },
)
logout_token = LOGOUT_TOKENS.token


async def post_logout(app: Quart, form: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """POST /backchannel-logout as Logto would (no cookie)."""
    return await app.test_client().post("/backchannel-logout", form=form, **kwargs)


async def signed_in_client(app: Quart, provider: HostileProvider) -> QuartClient:
    """A browser signed in through `provider`."""
    client = app.test_client()
    assert (await sign_in(client, provider))[0] == 302
    assert await is_signed_in(client)
    return client


async def test_a_valid_logout_token_ends_the_session(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    browser = await signed_in_client(hostile_app, hostile)
    response = await post_logout(hostile_app, {"logout_token": logout_token()(hostile)})
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert await is_signed_out(browser)


async def in_two_logto_sessions(
    app: Quart, provider: HostileProvider
) -> tuple[QuartClient, QuartClient]:
    """Two browsers of the test user, signed in through two sessions at the provider."""
    first = await signed_in_client(app, provider)
    provider.logto_sid = "hostile-logto-session-2"
    return first, await signed_in_client(app, provider)


async def test_a_token_with_only_sub_ends_every_session_of_that_user(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    first, second = await in_two_logto_sessions(hostile_app, hostile)
    token = logout_token(sid=None, jti=secrets.token_urlsafe(12))(hostile)
    response = await post_logout(hostile_app, {"logout_token": token})
    assert response.status_code == 200
    assert await is_signed_out(first) and await is_signed_out(second)


async def test_a_token_with_a_sid_ends_only_that_logto_sessions_app_sessions(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    first, second = await in_two_logto_sessions(hostile_app, hostile)
    token = logout_token(sid="hostile-logto-session-1")(hostile)
    assert (await post_logout(hostile_app, {"logout_token": token})).status_code == 200
    assert await is_signed_out(first)
    assert await is_signed_in(second)


REFUSED: list[Any] = [
    pytest.param(LOGOUT_TOKENS.unsigned(), id="alg-none"),
    pytest.param(logout_token(events=None), id="no-event"),
    pytest.param(logout_token(events={"http://example.com/other-event": {}}), id="wrong-event"),
    pytest.param(logout_token(events={EVENT: "yes"}), id="event-not-an-object"),
    pytest.param(logout_token(nonce="a-nonce"), id="with-nonce"),
    pytest.param(
        LOGOUT_TOKENS.hs256_with_the_public_key(), id="wrong-alg-hs256-with-the-public-key"
    ),
    pytest.param(logout_token(aud="another-app"), id="wrong-aud"),
    pytest.param(logout_token(iss="https://evil.example/oidc"), id="wrong-iss"),
    pytest.param(LOGOUT_TOKENS.by_the_attacker_under_the_providers_kid(), id="bad-signature"),
    pytest.param(LOGOUT_TOKENS.by_the_attacker(), id="unknown-kid"),
    pytest.param(logout_token(sid=None, sub=None), id="no-sid-no-sub"),
    pytest.param(logout_token(iat=int(time.time()) - 3600), id="iat-far-in-the-past"),
    pytest.param(logout_token(iat=int(time.time()) + 3600), id="iat-in-the-future"),
    pytest.param(logout_token(exp=int(time.time()) - 60), id="expired"),
    pytest.param(logout_token(jti=None), id="no-jti"),
    pytest.param(LOGOUT_TOKENS.typed("JWT"), id="wrong-typ"),
    pytest.param(lambda p: p.sign(), id="an-id-token"),
    pytest.param(lambda p: "not-a-jwt", id="garbage"),
    pytest.param(lambda p: p.key.sign(LOGOUT_TOKENS.claims(p, pad="x" * 20_000)), id="huge"),
]


@pytest.mark.parametrize("token", REFUSED)
async def test_a_bad_logout_token_is_a_400_and_ends_nothing(
    hostile_app: Quart, hostile: HostileProvider, token: Token
) -> None:
    browser = await signed_in_client(hostile_app, hostile)
    response = await post_logout(hostile_app, {"logout_token": token(hostile)})
    body = await response.get_json()
    assert response.status_code == 400, body
    assert body["error"] == "invalid_request" and "Traceback" not in str(body)
    assert response.headers["Cache-Control"] == "no-store"
    assert await is_signed_in(browser)


async def test_a_replayed_logout_token_is_refused(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    await signed_in_client(hostile_app, hostile)
    token = logout_token()(hostile)
    assert (await post_logout(hostile_app, {"logout_token": token})).status_code == 200
    browser = await signed_in_client(hostile_app, hostile)  # the same Logto sid again
    response = await post_logout(hostile_app, {"logout_token": token})
    assert response.status_code == 400
    assert "used before" in (await response.get_json())["error_description"]
    assert await is_signed_in(browser)


@pytest.mark.parametrize(
    "request_args",
    [
        pytest.param({}, id="no-body"),
        pytest.param({"form": {"token": "x"}}, id="no-logout-token-field"),
        pytest.param({"json": {"logout_token": "x"}}, id="json-body"),
        pytest.param({"data": b"\xff\xfe\x00garbage"}, id="binary-body"),
    ],
)
async def test_a_malformed_request_is_a_400(
    idp_app: Quart, http: aiohttp.ClientSession, request_args: dict[str, Any]
) -> None:
    browser = idp_app.test_client()  # signed in through the real provider: a real sid
    assert (await sign_in_in_process(browser, http, "malformed-mo")).status_code == 302
    response = await idp_app.test_client().post("/backchannel-logout", **request_args)
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"
    assert await signed_in_as(browser) == "Malformed-mo"


async def test_an_oversized_body_is_refused_without_reading_it(idp_app: Quart) -> None:
    response = await post_logout(idp_app, {"logout_token": "x" * 200_000})
    assert response.status_code == 413
    assert response.content_type == "application/json"


async def test_a_flood_of_invalid_tokens_costs_no_redis_memory(
    own_redis: RedisServer, hostile: HostileProvider
) -> None:
    redis = Redis.from_url(own_redis.url)
    try:
        async with serving_app(hostile, own_redis.url) as app:
            before = await redis.dbsize()
            for index in range(200):
                token = logout_token(aud=f"not-us-{index}")(hostile)
                assert (await post_logout(app, {"logout_token": token})).status_code == 400
            assert await redis.dbsize() == before
    finally:
        await redis.aclose()


def backchannel_count(result: str) -> float:
    """The back-channel logouts counted so far with `result` (this process's registry)."""
    value = REGISTRY.get_sample_value("backchannel_logouts_total", {"result": result})
    return value or 0.0


async def test_back_channel_logouts_are_counted(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    ok, refused = backchannel_count("ok"), backchannel_count("refused")
    await signed_in_client(hostile_app, hostile)
    await post_logout(hostile_app, {"logout_token": logout_token(aud="not-us")(hostile)})
    await post_logout(hostile_app, {"logout_token": logout_token()(hostile)})
    assert (backchannel_count("ok"), backchannel_count("refused")) == (ok + 1, refused + 1)
