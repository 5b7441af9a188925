"""The peer: Flask + Flask-Session on the same Redis, configured as its tutorials show.

Flask-Session keeps its defaults, so, like most deployments, it writes the session back
on every request (Flask's SESSION_REFRESH_EACH_REQUEST). POST /seed fills the session
with a copy of the app's signed-in session, padded to the same stored size.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request, session
from flask_session import Session  # type: ignore[import-untyped]
from redis import Redis

from benchmarks.baselines.page import PAGE, TEMPLATES, csrf_token

KEY_PREFIX = "peer:"
PAD = "_pad"


def create_peer() -> Flask:
    """The peer app on REDIS_URL, signing its CSRF tokens with SECRET_KEY."""
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(
        SECRET_KEY=os.environ["SECRET_KEY"],
        SESSION_TYPE="redis",
        SESSION_REDIS=Redis.from_url(os.environ["REDIS_URL"]),
        SESSION_KEY_PREFIX=KEY_PREFIX,
    )
    Session(app)
    app.add_url_rule("/", view_func=home)
    app.add_url_rule("/healthz", view_func=healthz)
    app.add_url_rule("/seed", view_func=seed, methods=["POST"])
    return app


def home() -> str:
    """The signed-in page, the user's name read from the session."""
    user = session.get("user")
    name = user.get("name") if isinstance(user, dict) else None
    token = csrf_token(str(current_app.config["SECRET_KEY"]), _session_id())
    return render_template(PAGE, user_name=name, csrf_token=token)


def healthz() -> Response:
    """Ready."""
    return jsonify(status="ok")


def seed() -> Response:
    """Replace the session with the posted `data`, padded to `size` stored bytes."""
    body: dict[str, Any] = request.get_json(force=True)
    session.clear()
    session.update(body["data"])
    _pad_to(int(body["size"]))
    return jsonify(sid=_session_id(), size=len(_encoded()))


def _pad_to(size: int) -> None:
    session[PAD] = ""
    session[PAD] = "x" * max(0, size - len(_encoded()))
    # A longer string needs a longer length prefix: take those bytes back off.
    session[PAD] = "x" * max(0, len(session[PAD]) - (len(_encoded()) - size))


def _encoded() -> bytes:
    encoded: bytes = current_app.session_interface.serializer.encode(session)  # type: ignore[attr-defined]
    return encoded


def _session_id() -> str:
    sid: str = getattr(session, "sid", "")
    return sid


app = create_peer()
