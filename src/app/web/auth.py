"""Sign-in, sign-up, callback and sign-out routes, and the `login_required` guard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec

from logto import InteractionMode
from quart import Blueprint, redirect, request, session, url_for
from quart.typing import ResponseReturnValue

from app.errors import AppError
from app.observability import metrics
from app.oidc import flows, logout
from app.sessions.interface import current_session_id
from app.web.csrf import verify_csrf
from app.web.redirects import safe_next
from app.web.rendering import render_page

blueprint = Blueprint("auth", __name__)

USER_AGENT = "user_agent"  # the browser's User-Agent, kept at sign-in for the sessions page
MAX_USER_AGENT = 512

P = ParamSpec("P")


def login_required(
    view: Callable[P, Awaitable[ResponseReturnValue]],
) -> Callable[P, Awaitable[ResponseReturnValue]]:
    """Send signed-out users to /sign-in, returning them to this page afterwards."""

    @wraps(view)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if not flows.is_authenticated():
            here = request.path + (
                f"?{request.query_string.decode()}" if request.query_string else ""
            )
            return redirect(url_for("auth.sign_in", next=here))
        return await view(*args, **kwargs)

    return guarded


async def _start(interaction_mode: InteractionMode | None) -> ResponseReturnValue:
    target = safe_next(request.args.get("next"))
    if flows.is_authenticated():
        return redirect(target)
    url = await flows.sign_in_url(interaction_mode, target)
    metrics.sign_ins_started.labels("sign_up" if interaction_mode == "signUp" else "sign_in").inc()
    return redirect(url)


@blueprint.get("/sign-in")
async def sign_in() -> ResponseReturnValue:
    """Redirect to Logto's sign-in screen."""
    return await _start(None)


@blueprint.get("/sign-up")
async def sign_up() -> ResponseReturnValue:
    """Redirect to Logto's create-account screen."""
    return await _start("signUp")


@blueprint.get("/callback")
async def callback() -> ResponseReturnValue:
    """Complete the sign-in and return to the page the user came from."""
    args = request.args
    try:
        next_path = await flows.complete_sign_in(request.url, args.get("state"), args.get("iss"))
    except AppError as error:
        metrics.sign_in_failed(error)
        if flows.is_authenticated():  # a stale or repeated callback of a signed-in browser
            return redirect(url_for("pages.home"))
        raise
    metrics.sign_ins_completed.inc()
    session[USER_AGENT] = request.headers.get("User-Agent", "")[:MAX_USER_AGENT]
    return redirect(safe_next(next_path))


@blueprint.get("/sign-out")
async def sign_out_page() -> ResponseReturnValue:
    """A page with the sign-out button; a GET never signs anyone out."""
    return await render_page("sign_out.html")


async def sign_out_response() -> ResponseReturnValue:
    """Revoke and clear this session, then send the browser to Logto's end-session."""
    end_session_url = await flows.sign_out_url()
    session.clear()
    response = redirect(end_session_url or "/")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/sign-out")
async def sign_out() -> ResponseReturnValue:
    """Clear the server-side session, then let Logto end its own session."""
    await verify_csrf()
    return await sign_out_response()


@blueprint.post("/sign-out/everywhere")
async def sign_out_everywhere() -> ResponseReturnValue:
    """End every session of this user in this app (all workers and hosts), then this one."""
    await verify_csrf()
    if user := flows.current_user():
        others = [
            stored.sid
            for stored in await logout.sessions_of_user(user["sub"])
            if stored.sid != current_session_id()
        ]
        await logout.end_sessions(others, sub=user["sub"])
    return await sign_out_response()
