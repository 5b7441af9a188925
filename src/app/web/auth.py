"""Sign-in, sign-up, callback and sign-out routes."""

from __future__ import annotations

from quart import Blueprint, redirect, request, url_for
from quart.typing import ResponseReturnValue

from app.auth import ReauthenticationRefused, current_user, logto
from app.errors import AppError
from app.observability import metrics
from app.web.csrf import verify_csrf
from app.web.redirects import safe_next
from app.web.rendering import render_page

blueprint = Blueprint("auth", __name__)


async def _start(*, sign_up: bool) -> ResponseReturnValue:
    args = request.args
    target = safe_next(args.get("next"))
    reauthenticate = "reauth" in args and current_user.is_authenticated
    if current_user.is_authenticated and not reauthenticate:
        return redirect(target)
    url = await logto.sign_in_url(
        target,
        sign_up=sign_up,
        direct_sign_in=args.get("direct"),
        login_hint=args.get("login_hint"),
        reauthenticate=reauthenticate,
    )
    mode = "reauthenticate" if reauthenticate else "sign_up" if sign_up else "sign_in"
    metrics.sign_ins_started.labels(mode).inc()
    return redirect(url)


@blueprint.get("/sign-in")
async def sign_in() -> ResponseReturnValue:
    """Redirect to Logto's sign-in screen (`direct`: straight to a connector; `login_hint`:
    the identifier pre-filled; `reauth`: the signed-in user signs in again)."""
    return await _start(sign_up=False)


@blueprint.get("/sign-up")
async def sign_up() -> ResponseReturnValue:
    """Redirect to Logto's create-account screen (the same options as /sign-in)."""
    return await _start(sign_up=True)


@blueprint.get("/callback")
async def callback() -> ResponseReturnValue:
    """Complete the sign-in and return to the page the user came from."""
    args = request.args
    try:
        next_path = await logto.complete_sign_in(
            request.url, args.get("state"), args.get("iss"), request.headers.get("User-Agent", "")
        )
    except AppError as error:
        metrics.sign_in_failed(error)
        # A stale or repeated callback of a signed-in browser goes home; a refused
        # re-authentication says why (the user is still signed in as before).
        if current_user.is_authenticated and not isinstance(error, ReauthenticationRefused):
            return redirect(url_for("pages.home"))
        raise
    metrics.sign_ins_completed.inc()
    return redirect(safe_next(next_path))


@blueprint.get("/sign-out")
async def sign_out_page() -> ResponseReturnValue:
    """A page with the sign-out button; a GET never signs anyone out."""
    return await render_page("sign_out.html")


def to_end_session(url: str | None) -> ResponseReturnValue:
    """The redirect to Logto's end-session page (home when Logto could not be reached)."""
    response = redirect(url or "/")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/sign-out")
async def sign_out() -> ResponseReturnValue:
    """Clear the server-side session, then let Logto end its own session."""
    await verify_csrf()
    return to_end_session(await logto.sign_out())


@blueprint.post("/sign-out/everywhere")
async def sign_out_everywhere() -> ResponseReturnValue:
    """End every session of this user in this app (all workers and hosts), then this one."""
    await verify_csrf()
    return to_end_session(await logto.sign_out_everywhere())
