"""Random callbacks, sign-in parameters, cookies and stored sessions never give a 500."""

import json
import secrets
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quart import Quart
from redis.asyncio import Redis

from app import create_app
from app.sessions.store import session_keys
from devstack import LocalIdp
from tests.conftest import CLIENT_ID, CLIENT_SECRET, make_settings

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
    application = create_app(
        make_settings(
            REDIS_URL=redis_url,
            LOGTO_ENDPOINT=idp.endpoint,
            LOGTO_APP_ID=CLIENT_ID,
            LOGTO_APP_SECRET=CLIENT_SECRET,
            BASE_URL=f"http://127.0.0.1:{app_ports[0]}",
        )
    )
    async with application.test_app():
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
SIGNED_IN_LOOKING = st.fixed_dictionaries(
    {
        "logto.idToken": TEXT,
        "user": st.fixed_dictionaries({"sub": TEXT, "name": JSON_VALUES}),
        "logto.refreshToken": TEXT,
        "logto.accessTokenMap": TEXT | JSON_VALUES.map(json.dumps),
        "sign_ins": st.dictionaries(st.just("x"), JSON_VALUES, max_size=1),
    }
)
SESSION_KEYS = st.sampled_from(
    ["_created", "user", "sign_ins", "logto.idToken", "logto.refreshToken", "logto.accessTokenMap"]
)


@FUZZ
@given(
    path=PATHS,
    data=st.dictionaries(SESSION_KEYS | TEXT, JSON_VALUES, max_size=6) | SIGNED_IN_LOOKING,
    raw=st.none() | st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)
async def test_corrupted_session_data_never_fails(
    app: Quart, redis: Redis, path: str, data: dict[str, object], raw: str | None
) -> None:
    sid = secrets.token_urlsafe(32)
    stored = {"_created": time.time(), **data} if raw is None else raw
    await redis.set(session_keys(sid)[0], raw if raw is not None else json.dumps(stored), ex=60)
    await assert_no_server_error(app, f"{path}?state=x&code=y", sid)
