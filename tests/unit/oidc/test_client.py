"""The Logto SDK internals this app relies on: each test names one and fails when it changes.

The app pins `logto` exactly (pyproject.toml). When an upgrade breaks one of these tests,
the message names the internal and the module of the app that leans on it.
"""

from __future__ import annotations

import inspect
import json
import time
from typing import Any

import pytest
from logto import LogtoClient, LogtoConfig, OidcProviderMetadata
from logto.LogtoClient import AccessToken, AccessTokenMap, SignInSession
from logto.OidcCore import OidcCore
from logto.Storage import MemoryStorage

from app.config import Settings
from app.oidc.client import PooledLogtoClient, PooledOidcCore
from app.oidc.provider import ProviderHttp

ENDPOINT = "https://tenant.logto.test"
METADATA = {
    "issuer": f"{ENDPOINT}/oidc",
    "authorization_endpoint": f"{ENDPOINT}/oidc/auth",
    "token_endpoint": f"{ENDPOINT}/oidc/token",
    "userinfo_endpoint": f"{ENDPOINT}/oidc/me",
    "jwks_uri": f"{ENDPOINT}/oidc/jwks",
    "end_session_endpoint": f"{ENDPOINT}/oidc/session/end",
    "response_types_supported": ["code"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["ES384"],
}


def parameters(function: Any) -> list[str]:
    """The parameter names of `function`, without self."""
    return [name for name in inspect.signature(function).parameters if name != "self"]


def relied_on(internal: str, user: str) -> str:
    """The failure message for an SDK internal that changed."""
    return f"logto SDK internal {internal} changed: {user} relies on it (see its docstring)"


@pytest.fixture
def client() -> tuple[PooledLogtoClient, MemoryStorage]:
    """The app's client subclass over a memory storage, its discovery document preset."""
    storage = MemoryStorage()
    http = ProviderHttp(Settings(_env_file=None))
    config = LogtoConfig(endpoint=ENDPOINT, appId="an-app", appSecret="a-secret")
    sdk = PooledLogtoClient(config, http, storage)
    sdk._oidcCore = PooledOidcCore(OidcProviderMetadata.model_validate(METADATA), http)
    return sdk, storage


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("fetchTokenByCode", ["clientId", "clientSecret", "redirectUri", "code", "codeVerifier"]),
        ("fetchTokenByRefreshToken", ["clientId", "clientSecret", "refreshToken", "resource"]),
        ("fetchUserInfo", ["accessToken"]),
        ("verifyIdToken", ["idToken", "clientId"]),
    ],
)
def test_oidc_core_methods_the_app_overrides(method: str, expected: list[str]) -> None:
    assert parameters(getattr(OidcCore, method)) == expected, relied_on(
        f"OidcCore.{method}", "app/oidc/client.py PooledOidcCore"
    )


def test_client_private_methods_the_app_uses() -> None:
    assert parameters(LogtoClient._handleTokenResponse) == ["resource", "tokenResponse"], relied_on(
        "LogtoClient._handleTokenResponse", "app/oidc/client.py PooledLogtoClient"
    )
    assert parameters(LogtoClient._getAccessToken) == ["resource"], relied_on(
        "LogtoClient._getAccessToken", "app/oidc/tokens.py"
    )
    assert inspect.iscoroutinefunction(LogtoClient.getOidcCore), relied_on(
        "LogtoClient.getOidcCore", "app/oidc/client.py"
    )


def test_client_keeps_its_oidc_core_in_a_private_attribute() -> None:
    plain = LogtoClient(LogtoConfig(endpoint=ENDPOINT, appId="an-app"), MemoryStorage())
    assert plain._oidcCore is None, relied_on("LogtoClient._oidcCore", "app/oidc/client.py")


async def test_sign_in_stores_its_session_under_sign_in_session(
    client: tuple[PooledLogtoClient, MemoryStorage],
) -> None:
    sdk, storage = client
    url = await sdk.signIn("https://app.test/callback")
    stored = storage.get("signInSession")
    assert stored is not None, relied_on('storage key "signInSession"', "app/oidc/flows.py")
    session = SignInSession.model_validate_json(stored)
    assert f"state={session.state}" in url, relied_on("SignInSession.state", "app/oidc/flows.py")
    assert url.startswith(f"{ENDPOINT}/oidc/auth?"), relied_on(
        "signIn's URL (the app appends &nonce=...)", "app/oidc/flows.py"
    )
    assert "nonce=" not in url, "the SDK now sends a nonce: drop the app's own (flows.py)"


async def test_sign_out_forgets_the_tokens_the_app_stores(
    client: tuple[PooledLogtoClient, MemoryStorage],
) -> None:
    sdk, storage = client
    for key in ("idToken", "refreshToken", "accessTokenMap"):
        storage.set(key, "x")
    url = await sdk.signOut("https://app.test/")
    assert all(storage.get(key) is None for key in ("idToken", "refreshToken", "accessTokenMap"))
    assert url.startswith(f"{ENDPOINT}/oidc/session/end?"), relied_on(
        "signOut's URL (the app appends &id_token_hint=...)", "app/oidc/flows.py"
    )
    assert "id_token_hint" not in url, "the SDK now sends id_token_hint: drop the app's own"


def test_access_tokens_are_kept_in_the_access_token_map(
    client: tuple[PooledLogtoClient, MemoryStorage],
) -> None:
    sdk, storage = client
    sdk._setAccessToken("", "an-access-token", 3600)
    stored = json.loads(storage.get("accessTokenMap") or "{}")
    assert stored["x"][""]["token"] == "an-access-token", relied_on(
        'storage key "accessTokenMap"', "app/oidc/tokens.py (adopting another worker's tokens)"
    )
    assert sdk._getAccessToken("") == "an-access-token"


def test_access_tokens_are_stored_through_set_access_token(
    client: tuple[PooledLogtoClient, MemoryStorage],
) -> None:
    assert parameters(LogtoClient._setAccessToken) == [
        "resource",
        "accessToken",
        "expiresIn",
    ], relied_on("LogtoClient._setAccessToken", "app/oidc/client.py PooledLogtoClient")
    assert set(AccessToken.model_fields) == {"token", "expiresAt"}, relied_on(
        "AccessToken(token, expiresAt)", "app/oidc/client.py PooledLogtoClient"
    )
    sdk, _ = client
    assert isinstance(sdk._getAccessTokenMap(), AccessTokenMap), relied_on(
        "LogtoClient._getAccessTokenMap", "app/oidc/client.py PooledLogtoClient"
    )


def test_is_authenticated_means_an_id_token_is_stored() -> None:
    storage = MemoryStorage()
    sdk = LogtoClient(LogtoConfig(endpoint=ENDPOINT, appId="an-app"), storage)
    assert not sdk.isAuthenticated()
    storage.set("idToken", "x")
    assert sdk.isAuthenticated(), relied_on(
        'storage key "idToken" behind isAuthenticated', "app/sessions/data.py signed_in_claims"
    )


@pytest.mark.parametrize(("expires_in", "usable_for"), [(3600, 3540), (600, 540), (6, 5), (1, 0)])
def test_access_tokens_are_kept_until_a_tenth_of_their_life_before_they_expire(
    client: tuple[PooledLogtoClient, MemoryStorage], expires_in: int, usable_for: int
) -> None:
    sdk, storage = client
    before = int(time.time())
    sdk._setAccessToken("", "an-access-token", expires_in)
    stored = json.loads(storage.get("accessTokenMap") or "{}")["x"][""]["expiresAt"]
    assert stored - before in {usable_for, usable_for + 1}  # the clock may tick meanwhile
