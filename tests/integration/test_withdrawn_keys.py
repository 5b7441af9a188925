"""A signing key Logto withdraws stops being trusted once the cached key set is too old.

The hostile provider signs the tokens: the local provider cannot withdraw a key mid-test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from app.oidc import keys as jwks
from tests.hostile_provider import JWKS, HostileProvider, SigningKey, serving_app
from tests.integration.test_api_bearer import ACCESS_TOKENS, RESOURCE


def access_token(provider: HostileProvider, key: SigningKey) -> str:
    """A valid access token for RESOURCE, signed with `key`."""
    return key.sign(ACCESS_TOKENS.claims(provider), typ="at+jwt")


@pytest.fixture
async def api_app(redis_url: str, hostile: HostileProvider) -> AsyncIterator[Quart]:
    """The app with its API, the provider's keys already cached by the start-up check."""
    async with serving_app(hostile, redis_url, API_RESOURCE=RESOURCE) as app:
        yield app


async def me(app: Quart, token: str) -> Any:
    return await app.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})


async def test_a_withdrawn_key_is_refused_after_the_jwks_max_age(
    api_app: Quart, hostile: HostileProvider
) -> None:
    hostile.jwks_cache_control = "public, max-age=1"
    old = hostile.key
    assert (await me(api_app, access_token(hostile, old))).status_code == 200
    hostile.rotate_key()
    hostile.withdraw_old_keys()
    fetched = hostile.hits[JWKS]
    assert (await me(api_app, access_token(hostile, old))).status_code == 200, "still fresh"
    await asyncio.sleep(1.2)
    refused = await me(api_app, access_token(hostile, old))
    assert refused.status_code == 401
    assert hostile.hits[JWKS] == fetched + 1, "one refetch, for a kid the app knew"
    assert (await me(api_app, access_token(hostile, hostile.key))).status_code == 200


class Clock:
    """A monotonic clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("cache_control", "trusted_for"),
    [(None, 300), ("max-age=86400", 3600), ("no-store", 1), ("max-age=120", 120)],
)
async def test_the_key_set_lives_as_long_as_its_max_age_allows(
    redis_url: str,
    hostile: HostileProvider,
    monkeypatch: pytest.MonkeyPatch,
    cache_control: str | None,
    trusted_for: int,
) -> None:
    clock = Clock()
    monkeypatch.setattr(jwks, "monotonic", clock)
    hostile.jwks_cache_control = cache_control
    async with serving_app(hostile, redis_url, API_RESOURCE=RESOURCE) as app:
        old = hostile.key
        assert (await me(app, access_token(hostile, old))).status_code == 200  # keys cached
        hostile.rotate_key()
        hostile.withdraw_old_keys()
        clock.now += trusted_for - 0.5
        assert (await me(app, access_token(hostile, old))).status_code == 200
        clock.now += 1
        assert (await me(app, access_token(hostile, old))).status_code == 401


async def test_a_failed_refresh_keeps_the_keys_and_is_retried_a_minute_later(
    redis_url: str, hostile: HostileProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(jwks, "monotonic", clock)
    async with serving_app(hostile, redis_url, API_RESOURCE=RESOURCE) as app:
        token = access_token(hostile, hostile.key)
        assert (await me(app, token)).status_code == 200  # keys cached
        hostile.failing = {JWKS}
        clock.now += 301
        assert (await me(app, token)).status_code == 200, "the provider is away: keys kept"
        fetched = hostile.hits[JWKS]
        clock.now += 30
        assert (await me(app, token)).status_code == 200
        assert hostile.hits[JWKS] == fetched, "no retry within the minute"
        hostile.failing = set()
        clock.now += 31
        assert (await me(app, token)).status_code == 200
        assert hostile.hits[JWKS] == fetched + 1
