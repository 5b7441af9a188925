"""The home and profile pages."""

from __future__ import annotations

from quart import Blueprint, render_template
from quart.typing import ResponseReturnValue

from app import logto_client
from app.auth import login_required

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
    if not logto_client.is_authenticated():
        return await render_template("home.html", user_name=None)
    claims = logto_client.id_token_claims()
    return await render_template("home.html", user_name=display_name(claims))


@blueprint.get("/profile")
@login_required
async def profile() -> ResponseReturnValue:
    """ID token claims and the userinfo answer of the signed-in user."""
    claims = logto_client.id_token_claims()
    user_info = await logto_client.fetch_user_info()
    return await render_template(
        "profile.html", user_name=display_name(claims), claims=claims, user_info=user_info
    )
