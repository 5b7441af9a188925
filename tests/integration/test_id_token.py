"""ID token verification: a valid token signs in; each forged or malformed one is a 400 page."""

from __future__ import annotations

import base64
import html
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from quart import Quart

from app.oidc import keys as jwks
from app.oidc.extension import EXTENSION
from devstack import LocalIdp
from tests.home_page import is_signed_out, signed_in_as
from tests.hostile_provider import (
    ATTACKER_CERT,
    ATTACKER_JWKS,
    CLIENT_ID,
    JWKS,
    USER,
    HostileProvider,
    SigningKey,
    forge,
    hmac_sha256,
    sign_in,
)
from tests.in_process_sign_in import in_process_settings, serving_in_process, sign_in_in_process
from tests.metrics_scrape import counted

Forge = Callable[[HostileProvider], str]
# Why a token is refused: the app's own words (its checks), or the PyJWT error it lets through
# (the page then says what PyJWT said of that token: its wording is PyJWT's, not copied here).
Reason = str | type[jwt.PyJWTError]
BadIssuer, BadAudience = jwt.InvalidIssuerError, jwt.InvalidAudienceError
Missing = jwt.MissingRequiredClaimError


@pytest.fixture
async def warm_app(hostile_app: Quart, hostile: HostileProvider) -> Quart:
    """The hostile_app after one valid sign-in (by another browser), so its JWKS is cached."""
    status, body = await sign_in(hostile_app.test_client(), hostile)
    assert status == 302, body
    assert hostile.hits[JWKS] == 1
    return hostile_app


def now() -> int:
    return int(time.time())


def hs256_with(secret: Callable[[HostileProvider], bytes]) -> Forge:
    """HS256 keyed with something public about the provider's key, under the provider's kid."""
    return lambda p: forge(
        {"alg": "HS256", "typ": "JWT", "kid": p.key.kid}, p.claims(), hmac_sha256(secret(p))
    )


def attacker_signed(**header: Any) -> Forge:
    """A token signed by the attacker's own key, with `header` saying where to find it."""
    return lambda p: p.attacker.sign(p.claims(), **header)


def by_key(alg: str) -> Forge:
    """Signed with `alg` by another key that claims the provider's kid."""
    return lambda p: SigningKey(p.key.kid, alg, SigningKey.generate(alg).private).sign(p.claims())


def x5c(key: SigningKey) -> str:
    """The key's certificate as an x5c header entry (base64 DER)."""
    return base64.b64encode(key.certificate().public_bytes(serialization.Encoding.DER)).decode()


def tampered(p: HostileProvider) -> str:
    header, _, signature = p.sign().split(".")
    other = p.sign(sub="someone-else").split(".")[1]
    return f"{header}.{other}.{signature}"


REJECTED = [
    pytest.param(lambda p: p.sign(iss="https://evil.example/oidc"), BadIssuer, id="iss-other"),
    pytest.param(lambda p: p.sign(iss=p.issuer[:-1]), BadIssuer, id="iss-prefix"),
    pytest.param(lambda p: p.sign(iss=p.endpoint), BadIssuer, id="iss-endpoint-only"),
    pytest.param(lambda p: p.sign(iss="/oidc"), BadIssuer, id="iss-suffix"),
    pytest.param(lambda p: p.sign(iss=p.issuer + "/x"), BadIssuer, id="iss-extended"),
    pytest.param(lambda p: p.sign(iss=[p.issuer]), BadIssuer, id="iss-list"),
    pytest.param(lambda p: p.sign(iss=None), Missing, id="iss-missing"),
    pytest.param(lambda p: p.sign(aud="another-hostile_app"), BadAudience, id="aud-other"),
    pytest.param(lambda p: p.sign(aud=None), Missing, id="aud-missing"),
    pytest.param(lambda p: p.sign(aud=CLIENT_ID[:-1]), BadAudience, id="aud-prefix"),
    pytest.param(lambda p: p.sign(aud=[CLIENT_ID, "x"]), BadAudience, id="aud-list"),
    pytest.param(
        lambda p: p.sign(azp="another-hostile_app"), "azp is not this app", id="azp-other"
    ),
    pytest.param(lambda p: p.sign(exp=now() - 120), jwt.ExpiredSignatureError, id="expired"),
    pytest.param(lambda p: p.sign(iat=now() + 3600), jwt.ImmatureSignatureError, id="iat-future"),
    pytest.param(lambda p: p.sign(exp=None), Missing, id="exp-missing"),
    pytest.param(lambda p: p.sign(iat=None), Missing, id="iat-missing"),
    pytest.param(lambda p: p.sign(sub=None), Missing, id="sub-missing"),
    pytest.param(lambda p: p.sign(name=42), "malformed claims: name", id="claim-malformed"),
    pytest.param(by_key("ES384"), jwt.InvalidSignatureError, id="bad-signature"),
    pytest.param(tampered, jwt.InvalidSignatureError, id="tampered-payload"),
    pytest.param(
        lambda p: forge({"alg": "none", "kid": p.key.kid}, p.claims(), lambda _: b""),
        "alg 'none' is not allowed",
        id="alg-none",
    ),
    pytest.param(
        hs256_with(lambda p: p.key.public_bytes(serialization.Encoding.PEM)),
        "alg 'HS256' is not allowed",
        id="hs256-public-pem",
    ),
    pytest.param(
        hs256_with(lambda p: p.key.public_bytes(serialization.Encoding.DER)),
        "alg 'HS256' is not allowed",
        id="hs256-public-der",
    ),
    pytest.param(
        hs256_with(lambda p: json.dumps(p.key.public_jwk()).encode()),
        "alg 'HS256' is not allowed",
        id="hs256-public-jwk",
    ),
    pytest.param(by_key("ES256"), "alg 'ES256' is not allowed", id="alg-not-advertised"),
    pytest.param(by_key("RS256"), "'RS256' does not match key", id="alg-not-key-type"),
    pytest.param(
        lambda p: p.attacker.sign(p.claims(), jwk=p.attacker.public_jwk()),
        "key-carrying header not accepted: jwk",
        id="header-jwk",
    ),
    pytest.param(
        lambda p: p.attacker.sign(p.claims(), jku=p.endpoint + ATTACKER_JWKS),
        "key-carrying header not accepted: jku",
        id="header-jku",
    ),
    pytest.param(
        lambda p: p.attacker.sign(p.claims(), x5u=p.endpoint + ATTACKER_CERT),
        "key-carrying header not accepted: x5u",
        id="header-x5u",
    ),
    pytest.param(
        lambda p: p.attacker.sign(p.claims(), x5c=[x5c(p.attacker)]),
        "key-carrying header not accepted: x5c",
        id="header-x5c",
    ),
    pytest.param(
        lambda p: p.key.sign(p.claims(), crit=["urn:example:evil"], **{"urn:example:evil": 1}),
        "critical extension",
        id="header-crit-unknown",
    ),
    pytest.param(
        lambda p: p.sign(padding="x" * 1_000_000), "token too large", id="one-megabyte-token"
    ),
    pytest.param(
        lambda p: forge({"alg": "ES384"}, p.claims(), lambda _: b"sig"),
        "no kid header",
        id="kid-missing",
    ),
]


async def refusal_of(app: Quart, id_token: str) -> jwt.PyJWTError:
    """Why the app's own ID token verifier (with the keys it cached) refuses `id_token`."""
    core = await app.extensions[EXTENSION].parts.client.getOidcCore()
    with pytest.raises(jwt.PyJWTError) as refused:
        core.verifyIdToken(id_token, CLIENT_ID)
    return refused.value


@pytest.mark.parametrize(("forged", "reason"), REJECTED)
async def test_rejected_id_token_is_a_400_page_and_signs_no_one_in(
    warm_app: Quart, hostile: HostileProvider, forged: Forge, reason: Reason
) -> None:
    hostile.id_token = forged
    client = warm_app.test_client()
    status, body = await sign_in(client, hostile)
    text = html.unescape(body)
    assert status == 400, text
    assert "Sign-in failed" in text
    if isinstance(reason, str):
        assert reason.lower() in text.lower()
    else:
        error = await refusal_of(warm_app, hostile.last_tokens["id_token"])
        assert isinstance(error, reason), repr(error)
        assert f"The ID token failed verification ({error})." in text
    assert "Traceback" not in text and 'File "' not in text
    assert await is_signed_out(client)
    assert hostile.hits[JWKS] == 1, "no JWKS fetch beyond the first sign-in's"
    assert hostile.hits[ATTACKER_JWKS] == hostile.hits[ATTACKER_CERT] == 0


async def test_valid_id_token_signs_in_with_one_jwks_fetch(
    redis_url: str, idp: LocalIdp, app_ports: list[int], http: aiohttp.ClientSession
) -> None:
    fetched = counted("provider_requests_total", endpoint="jwks")
    async with serving_in_process(in_process_settings(idp, redis_url, app_ports)) as app:
        client = app.test_client()
        callback = await sign_in_in_process(client, http, "valid-val")
        assert callback.status_code == 302, await callback.get_data(as_text=True)
        assert await signed_in_as(client) == "Valid-val"
    assert counted("provider_requests_total", endpoint="jwks") == fetched + 1
    assert counted("provider_requests_total", endpoint="jwks", result="ok") >= 1


async def test_rotated_signing_key_costs_one_jwks_fetch(
    warm_app: Quart, hostile: HostileProvider
) -> None:
    hostile.rotate_key()
    for _ in range(2):
        client = warm_app.test_client()
        status, body = await sign_in(client, hostile)
        assert status == 302, body
        assert await signed_in_as(client) == USER["name"]
    assert hostile.hits[JWKS] == 2


class Clock:
    """A monotonic clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_unknown_kids_refetch_the_jwks_at_most_once_a_minute(
    warm_app: Quart, hostile: HostileProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(jwks, "monotonic", clock)
    hostile.id_token = lambda p: SigningKey.generate().sign(p.claims())

    async def sign_in_rejected() -> None:
        client = warm_app.test_client()
        status, body = await sign_in(client, hostile)
        assert status == 400 and "no signing key with kid" in html.unescape(body)
        assert await is_signed_out(client)

    for _ in range(5):
        await sign_in_rejected()
    assert hostile.hits[JWKS] == 2
    clock.now += 61
    for _ in range(3):
        await sign_in_rejected()
    assert hostile.hits[JWKS] == 3
