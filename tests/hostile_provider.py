"""A hostile OpenID provider for tests: Logto's paths, valid by default, misbehaving on demand.

This is a fake, on purpose: the real local provider cannot sign a forged, expired or oversized
ID token, lie in its discovery document, stall its JWKS or rotate its key in the middle of a
test. Each test sets the fault it needs; everything else behaves like Logto (PKCE S256,
client_secret_post, refresh tokens, ES384 ID tokens on a P-384 key).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID
from jwt.algorithms import get_default_algorithms
from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from app import create_app
from tests.conftest import make_settings

CLIENT_ID = "hostile-test-app"
CLIENT_SECRET = "hostile-test-secret"
DISCOVERY = "/oidc/.well-known/openid-configuration"
JWKS = "/oidc/jwks"
TOKEN = "/oidc/token"
USERINFO = "/oidc/me"
AUTH = "/oidc/auth"
END_SESSION = "/oidc/session/end"
REVOCATION = "/oidc/token/revocation"
ATTACKER_JWKS = "/attacker/jwks"
ATTACKER_CERT = "/attacker/cert.pem"
ALL_PATHS = frozenset({DISCOVERY, JWKS, TOKEN, USERINFO, AUTH, END_SESSION, REVOCATION})
USER = {"sub": "hostile-user-1", "name": "Hostile Tester"}

CURVES = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1()}


@dataclass(frozen=True)
class SigningKey:
    """A private key, its kid and the algorithm it signs with."""

    kid: str
    alg: str
    private: Any

    @classmethod
    def generate(cls, alg: str = "ES384") -> SigningKey:
        """A fresh key for `alg` (ES256, ES384 or RS256) with a random kid."""
        private: PrivateKeyTypes = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if alg == "RS256"
            else ec.generate_private_key(CURVES[alg])
        )
        return cls(secrets.token_urlsafe(8), alg, private)

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, as a JWKS publishes it."""
        jwk = get_default_algorithms()[self.alg].to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def certificate(self) -> x509.Certificate:
        """A self-signed certificate for this key, as an x5c or x5u header would carry."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.kid)])
        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + timedelta(days=1))
            .sign(self.private, hashes.SHA256())
        )

    def public_bytes(self, encoding: serialization.Encoding) -> bytes:
        """The public key as PEM or DER (SubjectPublicKeyInfo)."""
        data: bytes = self.private.public_key().public_bytes(
            encoding, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return data

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        """A JWS of `claims` (unchecked, unlike jwt.encode) signed with this key; `header` adds."""
        payload = json.dumps(claims).encode()
        headers = {"kid": self.kid, **header}
        return jwt.api_jws.encode(payload, self.private, algorithm=self.alg, headers=headers)


def b64url(data: bytes) -> str:
    """Unpadded base64url, as in a JWS."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS put together by hand, for tokens PyJWT refuses to make."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def hmac_sha256(secret: bytes) -> Callable[[bytes], bytes]:
    """An HS256 signer using `secret` (e.g. the provider's public key) as the HMAC key."""
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def changed(claims: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """`claims` with `changes`; a change to None removes that claim."""
    merged = {**claims, **changes}
    return {name: value for name, value in merged.items() if value is not None}


Token = Callable[["HostileProvider"], str]  # a token the test has the provider make


@dataclass(frozen=True)
class TokenKind:
    """A kind of JWT the provider signs besides ID tokens (access or logout tokens): its `typ`
    and its valid claims, and the tokens of that kind a test can have the provider make."""

    typ: str
    valid_claims: Callable[[HostileProvider], dict[str, Any]]

    def claims(self, provider: HostileProvider, **changes: Any) -> dict[str, Any]:
        """Valid claims with `changes` (a change to None removes that claim)."""
        return changed(self.valid_claims(provider), **changes)

    def token(self, **changes: Any) -> Token:
        """One signed by the provider's key, with `changes` to its claims."""
        return lambda p: p.key.sign(self.claims(p, **changes), typ=self.typ)

    def typed(self, typ: str | None) -> Token:
        """One signed by the provider's key with another `typ` header (None: no typ)."""
        header = {} if typ is None else {"typ": typ}
        return lambda p: p.key.sign(self.claims(p), **header)

    def unsigned(self) -> Token:
        """One with `alg: none` and no signature."""
        return lambda p: forge({"alg": "none", "typ": self.typ}, self.claims(p), lambda _: b"")

    def hs256_with_the_public_key(self) -> Token:
        """One HMAC-signed with the provider's public key (PEM) under the provider's kid."""

        def make(provider: HostileProvider) -> str:
            secret = provider.key.public_bytes(serialization.Encoding.PEM)
            header = {"alg": "HS256", "typ": self.typ, "kid": provider.key.kid}
            return forge(header, self.claims(provider), hmac_sha256(secret))

        return make

    def by_the_attacker_under_the_providers_kid(self) -> Token:
        """One the attacker's key signed, naming the provider's key (a bad signature)."""
        return lambda p: SigningKey(p.key.kid, "ES384", p.attacker.private).sign(
            self.claims(p), typ=self.typ
        )

    def by_the_attacker(self) -> Token:
        """One the attacker's key signed under its own kid (unknown to the app)."""
        return lambda p: p.attacker.sign(self.claims(p), typ=self.typ)


@dataclass
class Authorization:
    """A code the provider handed out at /oidc/auth, and what the token request must match."""

    redirect_uri: str
    code_challenge: str
    nonce: str | None


class HostileProvider:
    """An in-process provider on 127.0.0.1; tests change its attributes to make it misbehave."""

    def __init__(self) -> None:
        self.keys = [SigningKey.generate()]  # newest first; the JWKS publishes them all
        self.attacker = SigningKey.generate()
        self.id_token: Callable[[HostileProvider], str] = lambda provider: provider.sign()
        self.discovery_changes: dict[str, Any] = {}
        self.jwks_delay = 0.0
        self.jwks_cache_control: str | None = None  # the JWKS response's Cache-Control
        self.token_delay = 0.0
        self.jwks_requested = asyncio.Event()
        self.failing: set[str] = set()  # paths that answer 500; ALL_PATHS is a provider down
        self.expires_in = 3600
        self.hits: Counter[str] = Counter()
        self.user_info: dict[str, Any] = dict(USER)  # what /oidc/me answers
        self.revoked: list[dict[str, str]] = []  # the forms posted to the revocation endpoint
        self.last_tokens: dict[str, Any] = {}  # the last token response
        self.refused_resources: set[str] = set()  # refresh grants for these: invalid_target
        self.grants: Counter[str] = Counter()
        self.app_ports: set[int] = set()  # client ports of the app's requests (all but /oidc/auth)
        self._codes: dict[str, Authorization] = {}
        self.nonce: str | None = None  # of the last code exchanged; ID tokens echo it
        self.logto_sid = "hostile-logto-session-1"  # the sid claim of the ID tokens it issues
        self._issued: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def key(self) -> SigningKey:
        """The current signing key."""
        return self.keys[0]

    @property
    def endpoint(self) -> str:
        """The LOGTO_ENDPOINT of this provider."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        """The issuer Logto would have: endpoint + /oidc."""
        return f"{self.endpoint}/oidc"

    def rotate_key(self) -> None:
        """Sign with a new key from now on; the JWKS keeps the old one, as Logto does."""
        self.keys.insert(0, SigningKey.generate())

    def withdraw_old_keys(self) -> None:
        """Publish only the current key, as after an administrator removed a compromised one."""
        del self.keys[1:]

    def claims(self, **changes: Any) -> dict[str, Any]:
        """Valid ID token claims for the test user; a change to None removes that claim."""
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 3600, **USER}
        return changed({**claims, "nonce": self.nonce, "sid": self.logto_sid}, **changes)

    def sign(self, **changes: Any) -> str:
        """A valid ID token, or one with `changes` to its claims, signed with the current key."""
        return self.key.sign(self.claims(**changes))

    async def __aenter__(self) -> HostileProvider:
        app = web.Application(middlewares=[self._observe])
        app.add_routes(
            [
                web.get(DISCOVERY, self._discovery),
                web.get(JWKS, self._jwks),
                web.get(ATTACKER_JWKS, self._attacker_jwks),
                web.get(ATTACKER_CERT, self._attacker_cert),
                web.get(AUTH, self._auth),
                web.post(TOKEN, self._token),
                web.get(USERINFO, self._userinfo),
                web.get(END_SESSION, self._end_session),
                web.post(REVOCATION, self._revoke),
            ]
        )
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _observe(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.hits[request.path] += 1
        if request.path != AUTH and request.transport is not None:
            self.app_ports.add(request.transport.get_extra_info("peername")[1])
        if request.path in self.failing:
            return web.Response(status=500, text="provider down")
        return await handler(request)

    async def _discovery(self, request: web.Request) -> web.Response:
        oidc = self.issuer
        return web.json_response(
            {
                "issuer": oidc,
                "authorization_endpoint": f"{oidc}/auth",
                "token_endpoint": f"{oidc}/token",
                "userinfo_endpoint": f"{oidc}/me",
                "jwks_uri": f"{oidc}/jwks",
                "end_session_endpoint": f"{oidc}/session/end",
                "revocation_endpoint": f"{oidc}/token/revocation",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                # oidc-provider lists HS256 too; the app must still refuse it for ID tokens.
                "id_token_signing_alg_values_supported": ["HS256", "RS256", "ES384"],
                "code_challenge_methods_supported": ["S256"],
                **self.discovery_changes,
            }
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        self.jwks_requested.set()
        await asyncio.sleep(self.jwks_delay)
        headers = {"Cache-Control": self.jwks_cache_control} if self.jwks_cache_control else None
        return web.json_response({"keys": [key.public_jwk() for key in self.keys]}, headers=headers)

    async def _attacker_jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.attacker.public_jwk()]})

    async def _attacker_cert(self, request: web.Request) -> web.Response:
        pem = self.attacker.certificate().public_bytes(serialization.Encoding.PEM)
        return web.Response(body=pem, content_type="application/x-pem-file")

    async def _auth(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != CLIENT_ID or query.get("code_challenge_method") != "S256":
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        self._codes[code] = Authorization(
            query["redirect_uri"], query["code_challenge"], query.get("nonce")
        )
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        raise web.HTTPFound(target)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = str(form.get("grant_type"))
        self.grants[grant] += 1
        await asyncio.sleep(self.token_delay)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        if not self._grant_is_valid(grant, form):
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("resource") in self.refused_resources:
            error = {"error": "invalid_target", "error_description": "resource not granted"}
            return web.json_response(error, status=400)
        return web.json_response(self._tokens())

    def _grant_is_valid(self, grant: str, form: Any) -> bool:
        if grant == "refresh_token":
            return form.get("refresh_token") in self._issued
        authorization = self._codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier", "")).encode()
        self.nonce = authorization.nonce if authorization else None
        return (
            grant == "authorization_code"
            and authorization is not None
            and authorization.redirect_uri == form.get("redirect_uri")
            and authorization.code_challenge == b64url(hashlib.sha256(verifier).digest())
        )

    def _tokens(self) -> dict[str, Any]:
        access_token, refresh_token = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self._issued |= {access_token, refresh_token}
        self.last_tokens = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": refresh_token,
            "id_token": self.id_token(self),
            "scope": "openid offline_access profile",
        }
        return self.last_tokens

    async def _userinfo(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._issued:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response(self.user_info)

    async def _revoke(self, request: web.Request) -> web.Response:
        form = {name: str(value) for name, value in (await request.post()).items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        self.revoked.append(form)
        self._issued.discard(form.get("token", ""))
        return web.Response(status=200)

    async def _end_session(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("post_logout_redirect_uri", "/"))

    async def authorize(self, authorization_url: str) -> str:
        """Follow the app's redirect to /oidc/auth as a browser would; return the callback path."""
        async with (
            aiohttp.ClientSession() as browser,
            browser.get(authorization_url, allow_redirects=False) as response,
        ):
            assert response.status == 302, await response.text()
            callback = urlsplit(response.headers["Location"])
        return f"{callback.path}?{callback.query}"


@asynccontextmanager
async def serving_app(
    provider: HostileProvider, redis_url: str, **settings: object
) -> AsyncIterator[Quart]:
    """The app configured for `provider`, with its start-up (and shutdown) hooks run."""
    app = create_app(
        make_settings(
            **{
                "REDIS_URL": redis_url,
                "LOGTO_ENDPOINT": provider.endpoint,
                "LOGTO_APP_ID": CLIENT_ID,
                "LOGTO_APP_SECRET": CLIENT_SECRET,
                **settings,
            }
        )
    )
    async with app.test_app():
        await app.extensions["logto"].endpoint_check  # start each test after the start-up check
        yield app


async def start_sign_in(client: QuartClient, provider: HostileProvider) -> str:
    """Go through /sign-in and the provider's /oidc/auth; return the callback path to visit."""
    response = await client.get("/sign-in")
    assert response.status_code == 302, await response.get_data(as_text=True)
    location = response.headers["Location"]
    assert parse_qs(urlsplit(location).query)["state"]
    return await provider.authorize(location)


async def sign_in(client: QuartClient, provider: HostileProvider) -> tuple[int, str]:
    """A whole sign-in through `provider`; the callback's status and body."""
    response = await client.get(await start_sign_in(client, provider))
    return response.status_code, await response.get_data(as_text=True)
