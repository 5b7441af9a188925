"""The home and profile pages."""

from __future__ import annotations

from quart import Blueprint
from quart.typing import ResponseReturnValue

from app.errors import AppError
from app.oidc import flows
from app.web.auth import login_required
from app.web.rendering import render_page

blueprint = Blueprint("pages", __name__)


def display_name(claims: dict[str, object]) -> str:
    """The name to greet the user with: name, else username, else the subject id."""
    for key in ("name", "username", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value
    return "there"


@blueprint.get("/")
async def home() -> ResponseReturnValue:
    """Sign-in links when signed out; the user's name and a sign-out button when signed in."""
    user = flows.current_user()
    return await render_page("home.html", user_name=display_name(user) if user else None)


@blueprint.get("/profile")
@login_required
async def profile() -> ResponseReturnValue:
    """ID token claims and the userinfo answer of the signed-in user."""
    claims = flows.current_user() or {}
    try:
        user_info, user_info_error = await flows.fetch_user_info(), None
    except AppError as error:
        if error.status not in {502, 504}:
            raise
        user_info, user_info_error = {}, error.message  # the claims still show while Logto is away
    return await render_page(
        "profile.html",
        user_name=display_name(claims),
        claims=claims,
        user_info=user_info,
        user_info_error=user_info_error,
    )
