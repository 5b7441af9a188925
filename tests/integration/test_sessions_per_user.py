"""MAX_SESSIONS_PER_USER: a sign-in beyond it ends the user's least recently used session."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest
from quart import Quart

from devstack import LocalIdp
from tests.auth_actions import forms_of
from tests.home_page import is_signed_in, is_signed_out
from tests.hostile_provider import REVOCATION, HostileProvider
from tests.hostile_provider import sign_in as hostile_sign_in
from tests.in_process_sign_in import browser_signed_in
from tests.local_app import local_app
from tests.provider_calls import provider_post
from tests.storage_routes import session_cookie

CAP = 3


@pytest.fixture
async def capped_app(redis_url: str, idp: LocalIdp, app_ports: list[int]) -> AsyncIterator[Quart]:
    """The app in-process on the real provider, at most CAP sessions per user."""
    async with local_app(redis_url, idp, app_ports[0], MAX_SESSIONS_PER_USER=CAP) as app:
        yield app


async def test_a_sign_in_beyond_the_cap_ends_the_least_recently_used_session(
    capped_app: Quart, idp: LocalIdp
) -> None:
    store = capped_app.extensions["logto"].store
    browsers = [await browser_signed_in(capped_app, "capped") for _ in range(CAP)]
    oldest = browsers[0]
    [stored] = await store.load_many([session_cookie(oldest)])
    oldest_refresh_token = stored.refresh_token
    await asyncio.sleep(0.05)
    newest = await browser_signed_in(capped_app, "capped")

    assert await is_signed_out(oldest)
    for browser in [*browsers[1:], newest]:
        assert await is_signed_in(browser)
    sub = stored.owner.sub
    assert len(await store.sessions_of_user(sub)) == CAP
    refused = await provider_post(
        idp, "/token", grant_type="refresh_token", refresh_token=oldest_refresh_token or ""
    )
    assert refused.status == 400 and refused.body.get("error") == "invalid_grant", refused.body


async def test_other_users_are_not_affected(capped_app: Quart) -> None:
    others = [await browser_signed_in(capped_app, "bystander") for _ in range(CAP)]
    for _ in range(CAP + 1):
        await browser_signed_in(capped_app, "busy")
    for browser in others:
        assert await is_signed_in(browser)


async def test_revocations_that_fail_are_reported_and_end_the_sessions_all_the_same(
    hostile_app: Quart, hostile: HostileProvider, caplog: pytest.LogCaptureFixture
) -> None:
    others = []
    for _ in range(12):  # more than one batch of revocations
        client = hostile_app.test_client()
        assert (await hostile_sign_in(client, hostile))[0] == 302
        others.append(client)
    page = await others[0].get("/sessions")
    form = next(
        f for f in forms_of(await page.get_data(as_text=True)) if f.action.endswith("/everywhere")
    )
    hostile.failing = {REVOCATION}
    with caplog.at_level(logging.WARNING):
        ended = await others[0].post("/sign-out/everywhere", form=form.fields)
    assert ended.status_code == 302
    # Earlier tests may have left sessions of this (hostile) user: at least these 11.
    reports = [
        re.search(r"Could not revoke (\d+) of (\d+) refresh tokens", r.getMessage())
        for r in caplog.records
    ]
    counts = [(int(m[1]), int(m[2])) for m in reports if m]
    assert len(counts) == 1 and counts[0][0] == counts[0][1] >= 11, counts
    for client in others:
        assert await is_signed_out(client)
