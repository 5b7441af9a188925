"""What a session holds, by name: the SDK's values, the user's claims and the bookkeeping.

Only the session store (this package) knows these field names; everything else reads and
changes a session through the functions here or the store's methods.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

SDK_PREFIX = "logto."  # the SDK's Storage keys, e.g. logto.idToken, logto.refreshToken
CLAIMS = "user"  # the verified ID token's claims, kept at sign-in and refresh
CREATED = "_created"  # when the session began (sign-in), in seconds since 1970
USER_AGENT = "user_agent"  # the browser's User-Agent at sign-in, for the sessions page
BOOKKEEPING = frozenset({CREATED, "_permanent"})  # "_permanent" is Quart's own flag
MAX_USER_AGENT = 512


def sdk_value(data: Mapping[str, Any], key: str) -> str | None:
    """The SDK's stored string for `key` (e.g. "idToken"), or None."""
    value = data.get(SDK_PREFIX + key)
    return value if isinstance(value, str) else None


def set_sdk_value(data: MutableMapping[str, Any], key: str, value: str | None) -> None:
    """Store the SDK's `value` under `key`; None removes it."""
    if value is None:
        data.pop(SDK_PREFIX + key, None)
    else:
        data[SDK_PREFIX + key] = value


def claims_of(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The signed-in user's ID token claims, or None when the session holds no user."""
    claims = data.get(CLAIMS)
    if isinstance(claims, dict) and isinstance(claims.get("sub"), str):
        return claims
    return None


def signed_in_claims(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The user's claims when the session is signed in (an ID token stored, as the SDK's
    isAuthenticated asks, and its claims kept), else None."""
    if SDK_PREFIX + "idToken" not in data:
        return None
    return claims_of(data)


def set_claims(data: MutableMapping[str, Any], claims: dict[str, Any]) -> None:
    """Keep the (verified) ID token's claims, so pages need not decode the JWT per request."""
    data[CLAIMS] = claims


def update_claims(data: MutableMapping[str, Any], changes: Mapping[str, Any]) -> None:
    """Change some of the kept claims (a profile change Logto confirmed), so every page shows
    them at once; the next token refresh replaces them all with the new ID token's."""
    claims = claims_of(data)
    if claims is not None:
        data[CLAIMS] = {**claims, **changes}  # a new dict: the session notices the change


def token_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Every field that holds a token or the user's claims."""
    return {key: value for key, value in data.items() if _is_token_field(key)}


def forget_tokens(data: MutableMapping[str, Any]) -> None:
    """Drop every token and claim, keeping nothing of the user."""
    for key in [key for key in data if _is_token_field(key)]:
        data.pop(key, None)


def restore_tokens(data: MutableMapping[str, Any], saved: Mapping[str, Any]) -> None:
    """Put back exactly the tokens and claims `saved` (from token_fields) held, nothing else."""
    forget_tokens(data)
    data.update(saved)


def adopt_tokens(data: MutableMapping[str, Any], stored: Mapping[str, Any]) -> None:
    """Take the tokens and claims of `stored` (what another worker saved) into `data`."""
    data.update(token_fields(stored))


def user_agent_of(data: Mapping[str, Any]) -> str:
    """The User-Agent kept at sign-in ("" when unknown)."""
    agent = data.get(USER_AGENT)
    return agent if isinstance(agent, str) else ""


def set_user_agent(data: MutableMapping[str, Any], user_agent: str) -> None:
    """Keep the browser's User-Agent (bounded) for the sessions page."""
    data[USER_AGENT] = user_agent[:MAX_USER_AGENT]


def created_of(data: Mapping[str, Any]) -> float | None:
    """When the session began, if it says."""
    return number(data.get(CREATED))


def is_empty(data: Mapping[str, Any]) -> bool:
    """True when the session holds nothing but its own bookkeeping."""
    return all(key in BOOKKEEPING for key in data)


def number(value: object) -> float | None:
    """A stored number (int, float or numeric string) as a float; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _is_token_field(key: str) -> bool:
    return key.startswith(SDK_PREFIX) or key == CLAIMS
