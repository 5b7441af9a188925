"""The one JWT verifier, for ID, access and logout tokens: header checks first, then PyJWT.

Keys come from memory only (the JWKS cache); callers get an unknown kid's key first.
"""

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
ID_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp", "iat")
ACCESS_TOKEN_CLAIMS = ("iss", "sub", "aud", "exp")
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - RFC 9068: resource servers insist on this typ


class TokenRejected(jwt.InvalidTokenError):
    """A token refused by a check of this app (PyJWT raises its own errors for the rest)."""


@dataclass(frozen=True)
class Expected:
    """What a valid token looks like: issuer, audience, algorithms, claims and `typ`.

    `typ`, when set, is the only type accepted; without `typ_required` a token may also
    carry no `typ` at all. `azp`, when true, refuses an `azp` claim naming another party.
    """

    issuer: str
    audience: str
    algorithms: frozenset[str]
    claims: tuple[str, ...] = ID_TOKEN_CLAIMS
    typ: str | None = None
    typ_required: bool = False
    azp: bool = True


def checked_header(token: str, algorithms: frozenset[str]) -> dict[str, Any]:
    """The token's header, unless its size or header alone disqualifies it (no key needed)."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenRejected(f"token too large: {len(token)} characters")
    header = jwt.get_unverified_header(token)
    if carried := sorted(KEY_CARRYING_HEADERS & header.keys()):
        raise TokenRejected(f"key-carrying header not accepted: {', '.join(carried)}")
    if "crit" in header:
        raise TokenRejected("unsupported critical extension (crit header)")
    if header.get("alg") not in algorithms:
        raise TokenRejected(f"alg {header.get('alg')!r} is not allowed")
    if not isinstance(header.get("kid"), str):
        raise TokenRejected("no kid header")
    return header


def signing_key(keys: Mapping[str, jwt.PyJWK], kid: str, alg: str) -> jwt.PyJWK:
    """The cached key named `kid`, if it exists and is a key for `alg`."""
    key = keys.get(kid)
    if key is None:
        raise TokenRejected(f"no signing key with kid {kid!r}")
    if key.algorithm_name != alg:
        raise TokenRejected(f"alg {alg!r} does not match key {kid!r} ({key.algorithm_name})")
    return key


def check_type(header: Mapping[str, Any], expected: Expected) -> None:
    """Refuse a `typ` other than the expected one (or a missing one where it is required)."""
    if expected.typ is None:
        return
    typ = header.get("typ")
    if typ is None and not expected.typ_required:
        return
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != expected.typ:
        raise TokenRejected(f"typ {typ!r} is not {expected.typ!r}")


def verify_jwt(token: str, keys: Mapping[str, jwt.PyJWK], expected: Expected) -> dict[str, Any]:
    """The claims of `token` once every check passed; a jwt.PyJWTError says which failed."""
    header = checked_header(token, expected.algorithms)
    check_type(header, expected)
    key = signing_key(keys, header["kid"], header["alg"])
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[key.algorithm_name],
        audience=expected.audience,
        # A container, not a str: PyJWT 2.10.0 matched a str issuer as a substring.
        issuer=(expected.issuer,),
        leeway=LEEWAY_SECONDS,
        options={"require": list(expected.claims), "strict_aud": True},
    )
    if expected.azp and claims.get("azp", expected.audience) != expected.audience:
        raise TokenRejected("azp is not this app")
    return claims
