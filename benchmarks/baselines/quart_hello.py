"""Bare Quart: the same page rendered from its template per request, no session, no Redis."""

from __future__ import annotations

from quart import Quart, render_template
from quart.typing import ResponseReturnValue

from benchmarks.baselines.page import PAGE, TEMPLATES, USER_NAME, csrf_token

app = Quart(__name__, template_folder=str(TEMPLATES))


@app.get("/")
async def home() -> ResponseReturnValue:
    """The signed-in page for a fixed user."""
    token = csrf_token("bare", "bare")
    return await render_template(PAGE, user_name=USER_NAME, csrf_token=token)


@app.get("/healthz")
async def healthz() -> ResponseReturnValue:
    """Ready."""
    return {"status": "ok"}
