"""The pages a signed-in person uses: home, profile, calling the API, organizations."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, redirect, request, url_for
from quart.typing import ResponseReturnValue

from app.auth import (
    ProfileRefused,
    current_user,
    fresh_login_required,
    login_required,
    logto,
)
from app.errors import AppError
from app.web.csrf import csrf_protected
from app.web.rendering import render_page

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
async def home() -> ResponseReturnValue:
    """Sign-in links (and a button per direct sign-in) when signed out; a greeting and where
    to go next when signed in."""
    settings = logto.settings
    return await render_page(
        "home.html",
        api_enabled=bool(settings.API_RESOURCE),
        direct_sign_in=settings.direct_sign_in,
    )


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
    """The person first (picture, name, email, dates), the name form, then the raw claims."""
    return await _profile_page(saved=request.args.get("saved") == "name")


@blueprint.post("/profile")
@csrf_protected
@fresh_login_required
async def update_profile() -> ResponseReturnValue:
    """Change the user's name at Logto (a sensitive action), then show the profile again."""
    name = (await request.form).get("name", "")
    try:
        await logto.update_profile(name=name)
    except ProfileRefused as refusal:
        # After a 401, Logto would refuse the userinfo request too (and sign the user out):
        # the page shows the kept claims only, and the session stays as it was.
        page = await _profile_page(
            problem=refusal.message, name=name, with_user_info=refusal.status != 401
        )
        return page, refusal.status
    return redirect(url_for("pages.profile", saved="name"), 303)


async def _profile_page(
    *,
    saved: bool = False,
    problem: str | None = None,
    name: str | None = None,
    with_user_info: bool = True,
) -> str:
    claims = current_user.claims
    user_info, user_info_error = await _user_info() if with_user_info else ({}, None)
    started = logto.session_started()
    person = {**claims, **user_info}
    return await render_page(
        "profile.html",
        person=person,
        claims=claims,
        user_info=user_info,
        user_info_error=user_info_error,
        signed_in_at=started,
        session_ends=started + logto.settings.SESSION_LIFETIME if started else None,
        name_field=person.get("name") if name is None else name,
        saved=saved,
        problem=problem,
        reauth_minutes=max(1, logto.settings.REAUTH_MAX_AGE // 60),
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
