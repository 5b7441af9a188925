"""A request that adopts another worker's tokens and then gets none must not write them back.

Two requests of one session race, in one process against the real local provider: A adopts
the stored tokens under the refresh lock, Logto refuses its audience, and A keeps running;
meanwhile B refreshes (the refresh token rotates). When A ends, the stored refresh token must
be B's new one: writing A's copy back would restore a used refresh token, which Logto treats
as theft (the grant revoked, the user signed out).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from quart import Blueprint, Quart
from quart.typing import ResponseReturnValue

from app.auth import login_required, logto
from app.errors import AppError
from devstack import LocalIdp, free_port
from tests.conftest import provider_for
from tests.in_process_sign_in import sign_in_in_process
from tests.local_app import local_app
from tests.storage_routes import session_cookie

ACCESS_TOKEN_TTL = 2  # kept until 1 s before expiry: stale 2 s after it was issued
WINDOW = 1.5  # seconds request A goes on after its refresh was refused


@pytest.fixture(scope="module")
def port_and_idp() -> Iterator[tuple[int, LocalIdp]]:
    """A provider with short-lived access tokens, for an app on one port."""
    port = free_port()
    with provider_for([port], access_token_ttl=ACCESS_TOKEN_TTL) as idp:
        yield port, idp


@pytest.fixture
async def racing_app(redis_url: str, port_and_idp: tuple[int, LocalIdp]) -> AsyncIterator[Quart]:
    """The app in-process, with a page that asks for a token Logto refuses, then lingers."""
    port, idp = port_and_idp
    lingering = Blueprint("lingering", __name__)

    @lingering.get("/_test/refused-then-linger")
    @login_required
    async def refused_then_linger() -> ResponseReturnValue:
        try:
            await logto.access_token("https://never-granted.example")
        except AppError as error:
            assert error.status == 403, error.message  # refused for that audience only
        await asyncio.sleep(WINDOW)
        return "done"

    async with local_app(redis_url, idp, port, blueprints=[lingering]) as app:
        yield app


async def stored_refresh_token(app: Quart, sid: str) -> str | None:
    """The refresh token stored for session `sid`, read through the session store."""
    found = await app.extensions["logto"].store.load_many([sid])
    return found[0].refresh_token if found else None


async def test_a_refused_audience_does_not_write_back_a_used_refresh_token(
    racing_app: Quart, http: aiohttp.ClientSession
) -> None:
    client = racing_app.test_client()
    assert (await sign_in_in_process(client, http, "racer")).status_code == 302
    sid = session_cookie(client)
    await asyncio.sleep(ACCESS_TOKEN_TTL + 0.2)  # every access token is stale now
    first = await stored_refresh_token(racing_app, sid)

    async def later_profile() -> int:
        await asyncio.sleep(0.5)  # after A's refusal, while A lingers
        return (await client.get("/profile")).status_code

    lingering, profile = await asyncio.gather(
        client.get("/_test/refused-then-linger"), later_profile()
    )
    assert lingering.status_code == 200 and profile == 200
    rotated = await stored_refresh_token(racing_app, sid)
    assert rotated is not None and rotated != first, "the used refresh token came back"

    await asyncio.sleep(ACCESS_TOKEN_TTL + 0.2)
    again = await client.get("/profile")  # a refresh with the stored token: the grant lives
    assert again.status_code == 200, await again.get_data(as_text=True)
