"""The pages a signed-in person uses: home, profile, calling the API, organizations."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart.typing import ResponseReturnValue

from app.auth import current_user, login_required, logto
from app.errors import AppError
from app.web.rendering import render_page

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
async def home() -> ResponseReturnValue:
    """Sign-in links when signed out; a greeting and where to go next when signed in."""
    return await render_page("home.html", api_enabled=bool(logto.settings.API_RESOURCE))


async def _user_info() -> tuple[dict[str, Any], str | None]:
    """Userinfo, or an explanation while Logto is away (the ID token's claims still show)."""
    try:
        return await logto.user_info(), None
    except AppError as error:
        if error.status not in {502, 504}:
            raise
        return {}, error.message


@blueprint.get("/profile")
@login_required
async def profile() -> ResponseReturnValue:
    """The person first (picture, name, email, dates), then the raw claims."""
    claims = current_user.claims
    user_info, user_info_error = await _user_info()
    started = logto.session_started()
    return await render_page(
        "profile.html",
        person={**claims, **user_info},
        claims=claims,
        user_info=user_info,
        user_info_error=user_info_error,
        signed_in_at=started,
        session_ends=started + logto.settings.SESSION_LIFETIME if started else None,
    )


@blueprint.get("/call-api")
@login_required
async def call_api() -> ResponseReturnValue:
    """Call the API with the user's access token and show what it answered."""
    if not logto.settings.API_RESOURCE:
        raise AppError(404, "This app has no API to call: API_RESOURCE is not set.")
    return await render_page("call_api.html", answer=await logto.call_api())


@blueprint.get("/organizations")
@login_required
async def organizations() -> ResponseReturnValue:
    """The user's organizations, their roles and the permissions of each organization token."""
    if not logto.organizations_requested():
        return await render_page("organizations.html", requested=False, organizations=[])
    user_info, user_info_error = await _user_info()
    return await render_page(
        "organizations.html",
        requested=True,
        organizations=await logto.organizations(user_info),
        user_info_error=user_info_error,
    )
