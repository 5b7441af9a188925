"""Random callbacks, sign-in parameters, cookies and stored sessions never give a 500."""

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart
from redis.asyncio import Redis

from app.oidc.extension import EXTENSION
from app.sessions.data import CREATED, USER_AGENT, claims_of, set_claims, set_sdk_value
from app.sessions.store import RequestState, ServerSession, session_keys
from app.testing import signed_in
from devstack import LocalIdp
from tests.conftest import API_RESOURCE, LOGTO_SCOPES
from tests.in_process_sign_in import in_process_settings, serving_in_process
from tests.storage_routes import session_cookie

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PARAM_NAMES = st.sampled_from(["state", "code", "iss", "error", "error_description", "next", "x"])
TEXT = st.text(max_size=80)
QUERIES = st.lists(st.tuples(PARAM_NAMES | TEXT, TEXT), max_size=6)
PATHS = st.sampled_from(["/", "/profile", "/callback", "/sign-in", "/sign-up", "/sign-out"])


@pytest.fixture(scope="module")
async def app(redis_url: str, idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app in-process against the real provider and Redis."""
    settings = in_process_settings(
        idp, redis_url, app_ports, API_RESOURCE=API_RESOURCE, LOGTO_SCOPES=LOGTO_SCOPES
    )
    async with serving_in_process(settings) as application:
        yield application


async def assert_no_server_error(app: Quart, path: str, cookie: str | None = None) -> None:
    client = app.test_client()
    if cookie is not None:
        client.set_cookie("localhost", "session", cookie)
    response = await client.get(path)
    text = await response.get_data(as_text=True)
    assert response.status_code < 500, (path, response.status_code, text)
    assert "Traceback" not in text


@FUZZ
@given(path=st.sampled_from(["/callback", "/sign-in", "/sign-up"]), query=QUERIES)
async def test_random_query_strings_never_fail(
    app: Quart, path: str, query: list[tuple[str, str]]
) -> None:
    await assert_no_server_error(app, f"{path}?{urlencode(query)}")


@FUZZ
@given(path=PATHS, cookie=st.text(max_size=200) | st.just(secrets.token_urlsafe(32)))
async def test_random_cookies_never_fail(app: Quart, path: str, cookie: str) -> None:
    await assert_no_server_error(app, path, cookie)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
SIGNED_IN_PATHS = PATHS | st.sampled_from(["/sessions", "/organizations", "/call-api"])
# What the app reads from a signed-in session: the user's claims (any claim, any JSON value,
# the sub included), the SDK's stored strings (None: not stored), and the session's own
# bookkeeping (when it began, the browser it began in).
CLAIM_NAMES = st.sampled_from(
    ["sub", "name", "username", "email", "picture", "sid", "auth_time", "iat", "exp"]
)
CLAIMS = st.dictionaries(CLAIM_NAMES | TEXT, JSON_VALUES, max_size=6)
SDK_KEYS = st.sampled_from(["idToken", "refreshToken", "accessTokenMap", "signInSession"])
SDK_VALUES = st.dictionaries(SDK_KEYS, st.none() | TEXT | JSON_VALUES.map(json.dumps), max_size=4)
FINITE_NUMBERS = st.integers() | st.floats(allow_nan=False, allow_infinity=False)


@FUZZ
@given(
    path=SIGNED_IN_PATHS,
    claims=CLAIMS,
    sdk_values=SDK_VALUES,
    created=st.none() | FINITE_NUMBERS | TEXT,
    user_agent=JSON_VALUES,
)
async def test_fuzzed_signed_in_session_data_never_fails(
    app: Quart,
    path: str,
    claims: dict[str, Any],
    sdk_values: dict[str, str | None],
    created: object,
    user_agent: object,
) -> None:
    store = app.extensions[EXTENSION].store
    async with signed_in(app, sub="fuzzed-user", name="Fuzzed") as client:
        sid = session_cookie(client)
        data = await store.load(sid)
        assert data is not None and claims_of(data) is not None, "a real signed-in session"
        set_claims(data, {**(claims_of(data) or {}), **claims})
        for key, value in sdk_values.items():
            set_sdk_value(data, key, value)
        if created is not None:
            data[CREATED] = created
        data[USER_AGENT] = user_agent
        await store.persist(ServerSession(data, sid=sid, state=RequestState(stored=True)))
        response = await client.get(f"{path}?state=x&code=y")
        text = await response.get_data(as_text=True)
    assert response.status_code < 500, (path, response.status_code, text)
    assert "Traceback" not in text


@FUZZ
@given(path=PATHS, raw=st.binary(max_size=64).map(lambda b: b.decode("latin-1")) | TEXT)
async def test_unreadable_stored_session_data_never_fails(
    app: Quart, redis: Redis, path: str, raw: str
) -> None:
    # The subject is what lies under a session's key, so the key is written directly.
    sid = secrets.token_urlsafe(32)
    await redis.set(session_keys(sid)[0], raw, ex=60)
    await assert_no_server_error(app, f"{path}?state=x&code=y", sid)
