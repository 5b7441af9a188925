"""The local provider behaves like Logto: API resources, organizations, back-channel logout."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import aiohttp
import jwt
import pytest
from aiohttp import web

from devstack import LocalIdp, free_port
from devstack.idp import (
    API_SCOPES,
    ORGANIZATION_PERMISSIONS,
    ORGANIZATION_ROLES_SCOPE,
    ORGANIZATIONS_RESOURCE,
    ORGANIZATIONS_SCOPE,
)
from tests.auth_actions import forms_of

CLIENT_ID = "idp-test-app"
CLIENT_SECRET = "idp-test-secret"
API = "http://127.0.0.1:9/api"
ALL_SCOPES = (
    "email",
    ORGANIZATIONS_SCOPE,
    ORGANIZATION_ROLES_SCOPE,
    *ORGANIZATION_PERMISSIONS,
    *API_SCOPES,
)
ACME, GLOBEX = "org_acme", "org_globex"


@dataclass
class Receiver:
    """The app's side of back-channel logout: keeps every logout token posted to it."""

    port: int
    logout_tokens: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def backchannel_logout(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.logout_tokens.append(str(form["logout_token"]))
        return web.Response(text="ok")


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    """A tiny web server on 127.0.0.1 registered as the client's back-channel logout URI."""
    receiver = Receiver(free_port())
    app = web.Application()
    app.router.add_post("/backchannel-logout", receiver.backchannel_logout)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
    yield receiver
    await runner.cleanup()


@pytest.fixture(scope="module")
def provider(receiver: Receiver) -> Iterator[LocalIdp]:
    """The local provider with one API resource and back-channel logout to the receiver."""
    with LocalIdp(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{receiver.origin}/callback"],
        post_logout_redirect_uris=[f"{receiver.origin}/"],
        api_resources={API: API_SCOPES},
        backchannel_logout_uri=f"{receiver.origin}/backchannel-logout",
    ) as idp:
        yield idp


@dataclass
class Client:
    """The client side of the OIDC flows, with one browser's cookies."""

    idp: LocalIdp
    http: aiohttp.ClientSession
    redirect_uri: str

    async def sign_in(
        self,
        username: str,
        scopes: Sequence[str] = ALL_SCOPES,
        resources: tuple[str, ...] = (API, ORGANIZATIONS_RESOURCE),
    ) -> dict[str, Any]:
        """Authorization code flow with PKCE through the provider's form; the token response."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = [
            ("client_id", CLIENT_ID),
            ("redirect_uri", self.redirect_uri),
            ("response_type", "code"),
            ("scope", " ".join(["openid", "offline_access", "profile", *scopes])),
            ("prompt", "consent"),
            ("code_challenge", challenge.decode().rstrip("=")),
            ("code_challenge_method", "S256"),
            ("state", secrets.token_urlsafe(16)),
            *(("resource", resource) for resource in resources),
        ]
        url, page = await self.browse(f"{self.idp.issuer}/auth?{urlencode(query)}")
        form = forms_of(page)[0]
        url, _ = await self.browse(urljoin(url, form.action), data={"username": username})
        assert url.startswith(self.redirect_uri), url
        code = parse_qs(urlsplit(url).query)["code"][0]
        status, tokens = await self.token(
            grant_type="authorization_code",
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=verifier,
        )
        assert status == 200, tokens
        return tokens

    async def browse(self, url: str, data: dict[str, str] | None = None) -> tuple[str, str]:
        """GET (or POST `data` to) `url` and follow redirects up to a page or the callback."""
        method = "GET" if data is None else "POST"
        for _ in range(10):
            if url.startswith(self.redirect_uri):
                return url, ""
            async with self.http.request(method, url, data=data, allow_redirects=False) as resp:
                if resp.status not in (302, 303):
                    assert resp.status == 200, await resp.text()
                    return url, await resp.text()
                url = urljoin(url, resp.headers["Location"])
            method, data = "GET", None
        raise AssertionError(f"too many redirects, last {url}")

    async def token(self, **form: str) -> tuple[int, dict[str, Any]]:
        """POST to the token endpoint with the client's credentials (client_secret_post)."""
        data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}
        async with self.http.post(f"{self.idp.issuer}/token", data=data) as resp:
            return resp.status, await resp.json()

    async def refresh(self, refresh_token: str, **extra: str) -> tuple[int, dict[str, Any]]:
        return await self.token(grant_type="refresh_token", refresh_token=refresh_token, **extra)

    async def userinfo(self, access_token: str) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {access_token}"}
        async with self.http.get(f"{self.idp.issuer}/me", headers=headers) as resp:
            return resp.status, await resp.json()

    async def verified(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of a JWT signed with one of the provider's ES384 keys, for `audience`."""
        async with self.http.get(f"{self.idp.issuer}/jwks") as resp:
            keys = jwt.PyJWKSet.from_dict(await resp.json())
        key = next(
            key for key in keys.keys if key.key_id == jwt.get_unverified_header(token)["kid"]
        )
        claims: dict[str, Any] = jwt.decode(
            token, key.key, algorithms=["ES384"], audience=audience, issuer=self.idp.issuer
        )
        return claims

    async def stats(self) -> dict[str, int]:
        async with self.http.get(self.idp.stats_url) as resp:
            assert resp.headers["Cache-Control"] == "no-store"
            stats: dict[str, int] = await resp.json()
            return stats


@pytest.fixture
def rp(provider: LocalIdp, receiver: Receiver, http: aiohttp.ClientSession) -> Client:
    """The relying party of these tests, with a fresh cookie jar."""
    return Client(provider, http, f"{receiver.origin}/callback")


def is_jwt(token: str) -> bool:
    return token.count(".") == 2


async def test_token_without_resource_is_opaque_and_good_for_userinfo(rp: Client) -> None:
    tokens = await rp.sign_in("olivia")
    assert not is_jwt(tokens["access_token"])
    status, user = await rp.userinfo(tokens["access_token"])
    assert status == 200 and user["username"] == "olivia"
    organizations = [(org["id"], org["name"]) for org in user["organization_data"]]
    assert organizations == [(ACME, "Acme"), (GLOBEX, "Globex")]
    assert all(org["description"] for org in user["organization_data"])

    status, refreshed = await rp.refresh(tokens["refresh_token"])
    assert status == 200 and not is_jwt(refreshed["access_token"])
    assert refreshed["refresh_token"] != tokens["refresh_token"], "refresh tokens rotate"


async def test_id_token_has_organizations_roles_and_sid(rp: Client) -> None:
    tokens = await rp.sign_in("isaac")
    claims = await rp.verified(tokens["id_token"], CLIENT_ID)
    assert claims["organizations"] == [ACME, GLOBEX]
    assert claims["organization_roles"] == [f"{ACME}:admin", f"{GLOBEX}:member"]
    assert claims["sid"] and claims["username"] == "isaac"
    assert "organization_data" not in claims, "only at the userinfo endpoint"


async def test_organization_claims_need_their_scopes(rp: Client) -> None:
    tokens = await rp.sign_in("nora", scopes=["email"], resources=())
    claims = await rp.verified(tokens["id_token"], CLIENT_ID)
    assert "organizations" not in claims and "organization_roles" not in claims
    _, user = await rp.userinfo(tokens["access_token"])
    assert "organization_data" not in user


async def test_refresh_with_resource_gives_an_es384_jwt_for_the_api(rp: Client) -> None:
    tokens = await rp.sign_in("amelia")
    status, answer = await rp.refresh(tokens["refresh_token"], resource=API)
    assert status == 200, answer
    token = answer["access_token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES384" and header["typ"] == "at+jwt"
    claims = await rp.verified(token, API)
    assert claims["aud"] == API
    assert claims["scope"].split() == list(API_SCOPES)
    assert claims["client_id"] == CLIENT_ID
    id_claims = await rp.verified(tokens["id_token"], CLIENT_ID)
    assert claims["sub"] == id_claims["sub"]
    assert claims["exp"] > claims["iat"]
    assert answer["scope"].split() == list(API_SCOPES)


async def test_resource_not_requested_at_sign_in_is_an_invalid_target(rp: Client) -> None:
    tokens = await rp.sign_in("ryan", resources=())
    for resource in (API, "http://127.0.0.1:9/unknown"):
        status, answer = await rp.refresh(tokens["refresh_token"], resource=resource)
        assert (status, answer["error"]) == (400, "invalid_target")
    status, _ = await rp.refresh(tokens["refresh_token"])
    assert status == 200, "a refused request does not spend the refresh token"


async def test_organization_token_for_each_organization(rp: Client) -> None:
    tokens = await rp.sign_in("olga")
    refresh_token = tokens["refresh_token"]
    expected = {ACME: set(ORGANIZATION_PERMISSIONS), GLOBEX: {"read:billing"}}
    for organization_id, permissions in expected.items():
        status, answer = await rp.refresh(refresh_token, organization_id=organization_id)
        assert status == 200, answer
        refresh_token = answer["refresh_token"]
        audience = f"urn:logto:organization:{organization_id}"
        claims = await rp.verified(answer["access_token"], audience)
        assert jwt.get_unverified_header(answer["access_token"])["typ"] == "at+jwt"
        assert set(claims["scope"].split()) == permissions
        assert claims["client_id"] == CLIENT_ID
        id_claims = await rp.verified(answer["id_token"], CLIENT_ID)
        assert claims["sub"] == id_claims["sub"]


async def test_organization_permissions_need_the_scope_and_the_organizations_resource(
    rp: Client,
) -> None:
    asked_only_read = [ORGANIZATIONS_SCOPE, "read:billing"]
    cases = [
        (asked_only_read, (ORGANIZATIONS_RESOURCE,), {"read:billing"}),
        (ALL_SCOPES, (API,), set()),
    ]
    for scopes, resources, permissions in cases:
        rp.http.cookie_jar.clear()  # a new browser, which has to sign in
        tokens = await rp.sign_in("paul", scopes=scopes, resources=resources)
        status, answer = await rp.refresh(tokens["refresh_token"], organization_id=ACME)
        assert status == 200, answer
        claims = await rp.verified(answer["access_token"], f"urn:logto:organization:{ACME}")
        assert set(claims.get("scope", "").split()) == permissions


async def test_organization_token_is_refused_to_non_members(rp: Client) -> None:
    tokens = await rp.sign_in("quinn")
    status, answer = await rp.refresh(tokens["refresh_token"], organization_id="org_initech")
    assert (status, answer["error"]) == (403, "access_denied")
    status, _ = await rp.refresh(tokens["refresh_token"], organization_id=GLOBEX)
    assert status == 200, "a refused request does not spend the refresh token"


async def test_organization_token_needs_the_organizations_scope(rp: Client) -> None:
    tokens = await rp.sign_in("sam", scopes=["email"], resources=())
    status, answer = await rp.refresh(tokens["refresh_token"], organization_id=ACME)
    assert (status, answer["error"]) == (403, "insufficient_scope")


async def test_stats_count_successful_refresh_grants(rp: Client) -> None:
    tokens = await rp.sign_in("tess")
    before = await rp.stats()
    await rp.refresh(tokens["refresh_token"])
    status, _ = await rp.refresh(tokens["refresh_token"])
    assert status == 400, "reusing a rotated refresh token fails"
    after = await rp.stats()
    assert after["refresh_token_grants"] - before["refresh_token_grants"] == 1
    assert after["refresh_token_grant_errors"] - before["refresh_token_grant_errors"] == 1


async def test_signing_out_at_the_provider_sends_a_logout_token(
    rp: Client, receiver: Receiver
) -> None:
    tokens = await rp.sign_in("uma")
    sid = (await rp.verified(tokens["id_token"], CLIENT_ID))["sid"]
    before = await rp.stats()
    receiver.logout_tokens.clear()

    url, page = await rp.browse(rp.idp.sign_out_url)
    assert '<strong id="username">uma</strong>' in page
    sign_out = forms_of(page)[0]
    url, page = await rp.browse(urljoin(url, sign_out.action))
    confirm = forms_of(page)[0]  # the logout form that submits itself
    url, page = await rp.browse(urljoin(url, confirm.action), data=confirm.fields)
    assert "<h1>Signed out</h1>" in page

    [logout_token] = receiver.logout_tokens
    header = jwt.get_unverified_header(logout_token)
    assert header["typ"] == "logout+jwt" and header["alg"] == "ES384"
    claims = await rp.verified(logout_token, CLIENT_ID)
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert claims["sid"] == sid and claims["aud"] == CLIENT_ID
    assert claims["sub"] and claims["jti"] and "nonce" not in claims
    after = await rp.stats()
    assert after["backchannel_logouts_sent"] - before["backchannel_logouts_sent"] == 1

    _, page = await rp.browse(rp.idp.sign_out_url)
    assert 'id="not-signed-in"' in page
