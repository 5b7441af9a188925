"""Back-channel logout with sid and sub: sessions that recorded no sid are not forgotten."""

from __future__ import annotations

import secrets

from quart import Quart

from tests.home_page import is_signed_in, is_signed_out
from tests.hostile_provider import HostileProvider
from tests.integration.test_backchannel import logout_token, post_logout, signed_in_client


async def test_a_sid_no_session_is_bound_to_ends_the_users_sessions_without_a_sid(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    hostile.logto_sid = None  # type: ignore[assignment]  # ID tokens without sid
    without_sid = await signed_in_client(hostile_app, hostile)
    hostile.logto_sid = secrets.token_hex(8)
    with_other_sid = await signed_in_client(hostile_app, hostile)
    token = logout_token(sid=secrets.token_hex(8))(hostile)  # a Logto session we never saw
    response = await post_logout(hostile_app, {"logout_token": token})
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert await is_signed_out(without_sid)
    assert await is_signed_in(with_other_sid), "bound to another Logto session: kept"


async def test_a_sid_with_bound_sessions_ends_only_those(
    hostile_app: Quart, hostile: HostileProvider
) -> None:
    hostile.logto_sid = None  # type: ignore[assignment]
    without_sid = await signed_in_client(hostile_app, hostile)
    hostile.logto_sid = secrets.token_hex(8)
    bound = await signed_in_client(hostile_app, hostile)
    response = await post_logout(hostile_app, {"logout_token": logout_token()(hostile)})
    assert response.status_code == 200
    assert await is_signed_out(bound)
    assert await is_signed_in(without_sid)
