"""The pages a signed-in person uses: home, profile, calling the API, organizations."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, session
from quart.typing import ResponseReturnValue

from app.config import current_settings
from app.errors import AppError
from app.oidc import flows, resources
from app.sessions.interface import CREATED
from app.web.auth import login_required
from app.web.rendering import render_page

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
async def home() -> ResponseReturnValue:
    """Sign-in links when signed out; a greeting and where to go next when signed in."""
    return await render_page("home.html", api_enabled=bool(current_settings().API_RESOURCE))


async def _user_info() -> tuple[dict[str, Any], str | None]:
    """Userinfo, or an explanation while Logto is away (the ID token's claims still show)."""
    try:
        return await flows.fetch_user_info(), None
    except AppError as error:
        if error.status not in {502, 504}:
            raise
        return {}, error.message


@blueprint.get("/profile")
@login_required
async def profile() -> ResponseReturnValue:
    """The person first (picture, name, email, dates), then the raw claims."""
    claims = flows.current_user() or {}
    user_info, user_info_error = await _user_info()
    started = session.get(CREATED)
    return await render_page(
        "profile.html",
        person={**claims, **user_info},
        claims=claims,
        user_info=user_info,
        user_info_error=user_info_error,
        signed_in_at=started,
        session_ends=started + current_settings().SESSION_LIFETIME if started else None,
    )


@blueprint.get("/call-api")
@login_required
async def call_api() -> ResponseReturnValue:
    """Call the API with the user's access token and show what it answered."""
    if not current_settings().API_RESOURCE:
        raise AppError(404, "This app has no API to call: API_RESOURCE is not set.")
    answer = await resources.call_api()
    return await render_page("call_api.html", answer=answer)


@blueprint.get("/organizations")
@login_required
async def organizations() -> ResponseReturnValue:
    """The user's organizations, their roles and the permissions of each organization token."""
    if not resources.organizations_requested():
        return await render_page("organizations.html", requested=False, organizations=[])
    user_info, user_info_error = await _user_info()
    found = await resources.organizations(user_info)
    return await render_page(
        "organizations.html",
        requested=True,
        organizations=found,
        user_info_error=user_info_error,
    )
