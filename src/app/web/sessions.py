"""GET /sessions: the user's sessions in this app, and ending one of them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from quart import Blueprint, redirect, url_for
from quart.typing import ResponseReturnValue
from ua_parser import parse

from app.config import current_settings
from app.errors import AppError
from app.oidc import flows, logout
from app.sessions.index import handle_of
from app.sessions.interface import StoredSession, current_session_id
from app.web.auth import USER_AGENT, login_required, sign_out_response
from app.web.csrf import verify_csrf
from app.web.rendering import render_page

blueprint = Blueprint("sessions", __name__)


@dataclass(frozen=True)
class SessionRow:
    """One session as the sessions page shows it."""

    handle: str
    started: float | None
    last_seen: float | None
    browser: str
    platform: str
    current: bool


@lru_cache(maxsize=512)
def describe_agent(user_agent: str) -> tuple[str, str]:
    """The browser and platform a User-Agent names, e.g. ("Firefox 132", "Windows 10")."""
    if not user_agent:
        return "Unknown browser", "unknown platform"
    result = parse(user_agent)
    agent, system = result.user_agent, result.os
    browser = " ".join(filter(None, [agent.family, agent.major])) if agent else "Unknown browser"
    platform = " ".join(filter(None, [system.family, system.major])) if system else ""
    return browser, platform or "unknown platform"


def row_of(stored: StoredSession, secret: str) -> SessionRow:
    """The page's row for a stored session."""
    agent = stored.data.get(USER_AGENT)
    browser, platform = describe_agent(agent if isinstance(agent, str) else "")
    return SessionRow(
        handle=handle_of(stored.sid, secret),
        started=stored.created,
        last_seen=stored.seen or stored.created,
        browser=browser,
        platform=platform,
        current=stored.sid == current_session_id(),
    )


async def my_sessions() -> list[SessionRow]:
    """The signed-in user's sessions, this browser's first, then the most recently seen."""
    user = flows.current_user() or {}
    secret = current_settings().secret_key()
    rows = [row_of(stored, secret) for stored in await logout.sessions_of_user(user["sub"])]
    return sorted(rows, key=lambda row: (not row.current, -(row.last_seen or 0)))


@blueprint.get("/sessions")
@login_required
async def sessions_page() -> ResponseReturnValue:
    """Where this user is signed in to this app."""
    return await render_page("sessions.html", sessions=await my_sessions())


@blueprint.post("/sessions/<handle>/end")
@login_required
async def end_session(handle: str) -> ResponseReturnValue:
    """End one of this user's sessions (a handle of anyone else's ends nothing)."""
    await verify_csrf()
    user = flows.current_user() or {}
    secret = current_settings().secret_key()
    for stored in await logout.sessions_of_user(user["sub"]):
        if handle_of(stored.sid, secret) != handle:
            continue
        if stored.sid == current_session_id():
            return await sign_out_response()
        await logout.end_sessions([stored.sid], sub=user["sub"])
        return redirect(url_for("sessions.sessions_page"))
    raise AppError(404, "There is no such session of yours. It may have ended already.")
