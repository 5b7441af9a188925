"""A real signed-in session on the app, and a Flask peer session of the same stored size."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from redis.asyncio import Redis

from app.sessions.store import session_keys
from benchmarks.flows import FlowError, new_client
from tests.auth_actions import AuthActions

PEER_PREFIX = "peer:"
COOKIE = "session"
USERNAME = "bench"


@dataclass(frozen=True)
class Sessions:
    """The session ids (cookie values) of the app's and the peer's signed-in user."""

    app: str
    peer: str

    def cookie(self, which: str) -> str:
        """The Cookie header value for `which` session (app or peer)."""
        return f"{COOKIE}={self.app if which == 'app' else self.peer}"

    def app_keys(self) -> list[str]:
        """The Redis keys the app keeps for its session."""
        return list(session_keys(self.app))

    def peer_keys(self) -> list[str]:
        """The Redis key the peer keeps for its session."""
        return [f"{PEER_PREFIX}{self.peer}"]


async def sign_in_both(app_url: str, peer_url: str, redis_url: str) -> Sessions:
    """Sign in to the app through the provider; give the peer a copy of that session."""
    async with new_client() as http:
        auth = AuthActions(app_url, http)
        landed = await auth.sign_in(USERNAME)
        sid = auth.session_id()
        if sid is None or 'id="sign-out"' not in landed.text:
            raise FlowError(f"could not sign in to the app (ended on {landed.url})")
    data, size = await _stored(redis_url, session_keys(sid)[0])
    sessions = Sessions(app=sid, peer=await _seed_peer(peer_url, data, size))
    for url, which in ((app_url, "app"), (peer_url, "peer")):
        await check_signed_in(url, sessions.cookie(which))
    return sessions


async def check_signed_in(url: str, cookie: str) -> None:
    """Raise FlowError unless GET / with `cookie` shows the signed-in page."""
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Cookie": cookie}) as page:
        if page.status != 200 or 'id="sign-out"' not in await page.text():
            raise FlowError(f"{url}/ with the benchmark's cookie is not signed in")


async def _stored(redis_url: str, key: str) -> tuple[dict[str, Any], int]:
    """The app's session data (its stored JSON) and its stored length."""
    async with Redis.from_url(redis_url) as redis:
        blob = await redis.get(key)
    if blob is None:
        raise FlowError(f"the app stored no {key}")
    return json.loads(blob), len(blob)


async def _seed_peer(peer_url: str, data: dict[str, Any], size: int) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{peer_url}/seed", json={"data": data, "size": size}) as response,
    ):
        answer = await response.json()
    sid: str = answer["sid"]
    return sid
