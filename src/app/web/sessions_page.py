"""GET /sessions: the user's sessions in this app, and ending one of them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from quart import Blueprint, redirect, url_for
from quart.typing import ResponseReturnValue
from ua_parser import parse

from app.auth import login_required, logto
from app.errors import AppError
from app.sessions.store import StoredSession
from app.web.auth import to_end_session
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


def row_of(stored: StoredSession, current_sid: str) -> SessionRow:
    """The page's row for a stored session."""
    browser, platform = describe_agent(stored.user_agent)
    return SessionRow(
        handle=logto.handle_of(stored),
        started=stored.created,
        last_seen=stored.seen or stored.created,
        browser=browser,
        platform=platform,
        current=stored.sid == current_sid,
    )


async def my_sessions() -> list[SessionRow]:
    """The signed-in user's sessions, this browser's first, then the most recently seen."""
    current_sid = logto.session_id()
    rows = [row_of(stored, current_sid) for stored in await logto.sessions()]
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
    for stored in await logto.sessions():
        if logto.handle_of(stored) != handle:
            continue
        if stored.sid == logto.session_id():
            return to_end_session(await logto.sign_out())
        await logto.end_session(stored)
        return redirect(url_for("sessions.sessions_page"))
    raise AppError(404, "There is no such session of yours. It may have ended already.")
