"""Logto's Account API: the signed-in user changes their own profile (for now, the name).

`PATCH <LOGTO_ENDPOINT>/api/my-account` with the user's opaque access token (the userinfo
one, issued without a resource). Logto answers only when the tenant's Account Center is
enabled and the field is set to Edit; its refusals become a ProfileRefused with a message a
person can act on. A change Logto confirmed goes into the session's claims at once.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from app.errors import AppError
from app.oidc import tokens
from app.oidc.parts import Parts
from app.oidc.provider import ProviderRefused

ACCOUNT_API_PATH = "/api/my-account"
MAX_NAME = 128  # Logto's users.name is varchar(128); a longer one is a 422 there
UNCHANGED = "Nothing was changed."
# Logto's error codes (core routes/account, koa-account-center): status here and message.
REFUSALS = {
    "account_center.not_enabled": (
        409,
        "Profile editing is turned off for this Logto tenant (its Account Center is not enabled).",
    ),
    "account_center.field_not_editable": (
        409,
        "Logto does not let you change your name here (the Account Center's name field is not "
        "set to Edit).",
    ),
    "entity.value_too_long": (400, f"Logto refused the name as too long (at most {MAX_NAME})."),
    "guard.invalid_input": (400, "Logto refused the name as invalid."),
}
logger = logging.getLogger("app.account")


class ProfileRefused(AppError):
    """A profile change refused here or by Logto; the profile and the session are unchanged."""

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(status, f"{message} {UNCHANGED}", title="Profile not changed", code=code)


def checked_name(value: str) -> str:
    """The name to send: `value` without surrounding spaces, 1 to 128 characters, no control
    characters; else ProfileRefused (400)."""
    name = value.strip()
    if not name:
        raise ProfileRefused(400, "Please enter a name.")
    if len(name) > MAX_NAME:
        raise ProfileRefused(
            400, f"A name can have at most {MAX_NAME} characters; this one has {len(name)}."
        )
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise ProfileRefused(400, "A name cannot contain control characters (such as newlines).")
    return name


async def update_profile(parts: Parts, *, name: str) -> dict[str, Any]:
    """Change the signed-in user's name at Logto; return the profile Logto answers with.

    The session's claims get the new name at once, so every page shows it.
    """
    name = checked_name(name)
    url = f"{parts.settings.logto_endpoint}{ACCOUNT_API_PATH}"
    async with parts.http.call():
        token = await tokens.access_token(parts)  # "": the opaque userinfo token
        try:
            profile = await parts.http.account_request("PATCH", url, token, {"name": name})
        except ProviderRefused as refusal:
            raise refused(refusal) from refusal
    await tokens.change_claims(parts, {"name": profile.get("name", name)})
    return profile


def refused(refusal: ProviderRefused) -> ProfileRefused:
    """The ProfileRefused for Logto's answer `refusal`."""
    logger.info("Logto refused a profile change: %s %s", refusal.status, refusal.code or "-")
    if refusal.code in REFUSALS:
        status, message = REFUSALS[refusal.code]
        return ProfileRefused(status, message, code=refusal.code)
    if refusal.status == 401:
        return ProfileRefused(
            401,
            "Logto did not accept this sign-in for changing your profile. Please sign out and "
            "sign in again.",
            code=refusal.code or None,
        )
    return ProfileRefused(
        400 if refusal.status != 403 else 403,
        f"Logto refused the change ({refusal.code or refusal.status}).",
        code=refusal.code or None,
    )
