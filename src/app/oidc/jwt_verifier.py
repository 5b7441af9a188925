"""ID token verification against keys already in memory: header checks first, then PyJWT."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

MAX_TOKEN_LENGTH = 16 * 1024
LEEWAY_SECONDS = 30
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Headers that carry a key or say where to fetch one; keys come from the discovered JWKS only.
KEY_CARRYING_HEADERS = frozenset({"jwk", "jku", "x5u", "x5c"})
REQUIRED_CLAIMS = ["iss", "sub", "aud", "exp", "iat"]


class IdTokenRejected(jwt.InvalidTokenError):
    """An ID token refused by a check of this app (PyJWT raises its own errors for the rest)."""


@dataclass(frozen=True)
class Expected:
    """What a valid ID token looks like: its issuer, its audience, the algorithms allowed."""

    issuer: str
    audience: str
    algorithms: frozenset[str]


def checked_header(id_token: str, algorithms: frozenset[str]) -> dict[str, Any]:
    """The token's header, unless its size or header alone disqualifies it (no key needed)."""
    if len(id_token) > MAX_TOKEN_LENGTH:
        raise IdTokenRejected(f"token too large: {len(id_token)} characters")
    header = jwt.get_unverified_header(id_token)
    if carried := sorted(KEY_CARRYING_HEADERS & header.keys()):
        raise IdTokenRejected(f"key-carrying header not accepted: {', '.join(carried)}")
    if "crit" in header:
        raise IdTokenRejected("unsupported critical extension (crit header)")
    if header.get("alg") not in algorithms:
        raise IdTokenRejected(f"alg {header.get('alg')!r} is not allowed")
    if not isinstance(header.get("kid"), str):
        raise IdTokenRejected("no kid header")
    return header


def signing_key(keys: Mapping[str, jwt.PyJWK], kid: str, alg: str) -> jwt.PyJWK:
    """The cached key named `kid`, if it exists and is a key for `alg`."""
    key = keys.get(kid)
    if key is None:
        raise IdTokenRejected(f"no signing key with kid {kid!r}")
    if key.algorithm_name != alg:
        raise IdTokenRejected(f"alg {alg!r} does not match key {kid!r} ({key.algorithm_name})")
    return key


def verify_id_token(
    id_token: str, keys: Mapping[str, jwt.PyJWK], expected: Expected
) -> dict[str, Any]:
    """The claims of `id_token` once every check passed; a jwt.PyJWTError says which failed."""
    header = checked_header(id_token, expected.algorithms)
    key = signing_key(keys, header["kid"], header["alg"])
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key,
        algorithms=[key.algorithm_name],
        audience=expected.audience,
        # A container, not a str: PyJWT 2.10.0 matched a str issuer as a substring.
        issuer=(expected.issuer,),
        leeway=LEEWAY_SECONDS,
        options={"require": REQUIRED_CLAIMS, "strict_aud": True},
    )
    if claims.get("azp", expected.audience) != expected.audience:
        raise IdTokenRejected("azp is not this app")
    return claims
