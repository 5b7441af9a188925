"""Logto sign-in for Quart, with the SDK's data in server-side Redis sessions."""

from __future__ import annotations

from pathlib import Path

from quart import Quart

from app import observability
from app.config import Settings, load_settings
from app.oidc import flows
from app.sessions import interface as session_store
from app.web import api, auth, backchannel, errors, headers, health, pages, rendering, sessions
from app.web import metrics as metrics_route
from app.web.csrf import csrf_token

MAX_BODY = 64 * 1024  # bytes: every form and logout token here is far smaller
TEMPLATES = Path(__file__).resolve().parent / "templates"  # a link to templates/ in a checkout


def create_app(settings: Settings | None = None) -> Quart:
    """Build the app from `settings` (read from the environment when None)."""
    settings = settings or load_settings()
    settings.check()
    app = Quart(__name__, template_folder=str(TEMPLATES))
    app.secret_key = settings.secret_key()
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.extensions["settings"] = settings
    # Every template can show the signed-in user without each view passing it.
    app.jinja_env.globals.update(csrf_token=csrf_token, current_user=flows.current_user)
    rendering.init_app(app)
    observability.init_app(app)  # first: every later hook and failure has a request id

    session_store.init_app(app, settings)
    flows.init_app(app, settings)
    errors.init_app(app)
    headers.init_app(app, settings)
    blueprints = (auth, pages, sessions, api, backchannel, health, metrics_route)
    for module in blueprints:
        app.register_blueprint(module.blueprint)
    return app
