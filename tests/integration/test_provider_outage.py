"""A provider that is down: sign-in answers 502, signed-in pages and sign-out keep working."""

import asyncio
import html

import pytest
from quart import Quart

from app.sessions.store import SessionStore
from tests.home_page import is_signed_out, signed_in_as
from tests.hostile_provider import (
    ALL_PATHS,
    TOKEN,
    USER,
    USERINFO,
    HostileProvider,
    serving_app,
    sign_in,
    start_sign_in,
)
from tests.storage_routes import session_cookie
from tests.stored_session import is_stored, stored


async def test_signed_in_pages_need_no_provider(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    assert (await sign_in(client, hostile))[0] == 302
    hostile.failing = set(ALL_PATHS)
    hits_before = sum(hostile.hits.values())

    assert await signed_in_as(client) == USER["name"]
    assert sum(hostile.hits.values()) == hits_before, "home asked the provider nothing"

    profile = await client.get("/profile")
    text = await profile.get_data(as_text=True)
    assert profile.status_code == 200
    assert "Profile of Hostile Tester" in text and 'id="user-info-error"' in text
    assert await signed_in_as(client) == USER["name"]


async def test_sign_in_answers_502_while_the_provider_is_down(
    redis_url: str, hostile: HostileProvider
) -> None:
    hostile.failing = set(ALL_PATHS)
    async with serving_app(hostile, redis_url) as app:  # nothing cached yet
        response = await app.test_client().get("/sign-in")
        text = await response.get_data(as_text=True)
    assert response.status_code == 502 and "could not be reached" in text


async def test_callback_answers_502_when_the_token_endpoint_fails(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    client = hostile_app.test_client()
    callback = await start_sign_in(client, hostile)
    hostile.failing = {TOKEN}
    response = await client.get(callback)
    text = html.unescape(await response.get_data(as_text=True))
    assert response.status_code == 502, text
    assert "Sign-in service unavailable" in text, "the page says which service failed"
    assert f"{hostile.endpoint} (LOGTO_ENDPOINT) could not be reached" in text
    assert "Traceback" not in text and 'File "' not in text
    assert await is_signed_out(client)


async def test_sign_out_clears_the_session_while_the_provider_is_down(
    redis_url: str, hostile: HostileProvider, store: SessionStore
) -> None:
    async with serving_app(hostile, redis_url) as app:
        client = app.test_client()
        assert (await sign_in(client, hostile))[0] == 302
        session_id = session_cookie(client)
    hostile.failing = set(ALL_PATHS)
    async with serving_app(hostile, redis_url) as fresh_worker:  # no cached discovery
        client_of_fresh = fresh_worker.test_client()
        client_of_fresh.set_cookie("localhost", "session", session_id)
        home = await (await client_of_fresh.get("/")).get_data(as_text=True)
        token = home.split('name="csrf_token" value="')[1].split('"')[0]
        response = await client_of_fresh.post("/sign-out", form={"csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert response.headers["Cache-Control"] == "no-store"
        assert not await is_stored(store, session_id)
        assert await is_signed_out(client_of_fresh)


async def test_sign_out_during_a_token_refresh_is_not_undone(
    hostile_app: Quart, hostile: HostileProvider, store: SessionStore
) -> None:
    client = hostile_app.test_client()
    hostile.expires_in = 0  # the access token is stale at once: /profile must refresh it
    assert (await sign_in(client, hostile))[0] == 302
    session_id = session_cookie(client)
    stored_at_sign_in = (await stored(store, session_id)).data
    assert hostile.grants["refresh_token"] == 0
    hostile.token_delay = 1.0  # the provider answers the refresh a second after it arrives
    loop = asyncio.get_running_loop()
    profile = asyncio.create_task(client.get("/profile"))
    for _ in range(500):  # until the refresh is at the provider; none in 5 s fails the test
        if hostile.grants["refresh_token"]:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("/profile sent no refresh to the provider")
    refresh_arrived = loop.time()
    # Meanwhile another host signs the user out, while the refresh is in flight.
    assert await store.load(session_id) == stored_at_sign_in, "the refresh wrote nothing yet"
    await store.end(session_id)
    assert not profile.done() and loop.time() - refresh_arrived < hostile.token_delay
    response = await profile
    text = await response.get_data(as_text=True)
    # The refresh completed and its new access token got the userinfo...
    assert hostile.grants["refresh_token"] == 1
    assert response.status_code == 200 and 'id="user-info-error"' not in text, text
    assert hostile.hits[USERINFO] == 1
    # ...yet what the refresh saved did not bring the session back.
    assert await store.load(session_id) is None, "the refresh did not bring the session back"
    assert await is_signed_out(client)
