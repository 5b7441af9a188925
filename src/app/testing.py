"""Test helpers for apps built on this package: a client that is already signed in.

    async with signed_in(app, sub="user-1", name="Ann") as client:
        response = await client.get("/reports")

The client's cookie names a real signed-in session in the app's Redis, made the way a
sign-in makes one (ID token claims, an ID token, the session index), so pages, guards and
`current_user` see a signed-in user without a browser or a provider round trip. The ID token
is not signed (no provider issued it): a page that needs Logto (tokens, userinfo, sign-out at
Logto) still calls the provider.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, cast

import jwt
from quart import Quart
from quart.typing import TestClientProtocol

from app.oidc.extension import EXTENSION, LogtoAuth

SERVER_NAME = "localhost"  # the host Quart's test client sends requests to


@asynccontextmanager
async def signed_in(app: Quart, *, sub: str, **claims: Any) -> AsyncIterator[TestClientProtocol]:
    """A test client signed in as `sub` with `claims` (name, username, email, ...).

    Starts the app's serving hooks when they have not run yet; the session is deleted again
    when the block ends.
    """
    auth: LogtoAuth = app.extensions[EXTENSION]
    async with AsyncExitStack() as stack:
        if not auth.store.is_open:
            await stack.enter_async_context(cast(AbstractAsyncContextManager[Any], app.test_app()))
        now = int(time.time())
        settings = auth.settings
        id_claims = {
            "iss": f"{settings.logto_endpoint}/oidc",
            "aud": settings.logto_app_id,
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
            **claims,
            "sub": sub,
        }
        id_token = jwt.encode(id_claims, key="", algorithm="none")
        sid = await auth.store.create_signed_in(id_claims, id_token)
        client = app.test_client()
        client.set_cookie(SERVER_NAME, auth.store.cookie_name(app), sid)
        try:
            yield client
        finally:
            await auth.store.end(sid)
