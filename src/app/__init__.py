"""Logto sign-in for Quart, with the SDK's data in server-side Redis sessions."""

from __future__ import annotations

import gc
from pathlib import Path

from quart import Quart

from app import observability
from app.auth import current_user
from app.config import Settings, process_settings
from app.oidc.extension import LogtoAuth
from app.web import (
    api,
    auth,
    backchannel,
    error_pages,
    headers,
    health,
    metrics_page,
    pages,
    rendering,
    sessions_page,
)
from app.web.csrf import csrf_token

MAX_BODY = 64 * 1024  # bytes: every form and logout token here is far smaller
TEMPLATES = Path(__file__).resolve().parent / "templates"  # a link to templates/ in a checkout
BLUEPRINTS = (auth, pages, sessions_page, api, backchannel, health, metrics_page)


def create_app(settings: Settings | None = None) -> Quart:
    """Build the app from `settings` (read from the environment when None)."""
    settings = settings or process_settings()
    settings.check()
    app = Quart(__name__, template_folder=str(TEMPLATES))
    app.secret_key = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    # Every template can show the signed-in user without each view passing it.
    app.jinja_env.globals.update(csrf_token=csrf_token, current_user=current_user)
    rendering.init_app(app)
    # First: every later hook and failure has a request id.
    observability.init_app(app, settings, signed_in_sub=lambda: current_user.sub)
    logto = LogtoAuth(app, settings=settings)
    logto.store.write_failed = error_pages.replace_with_outage
    error_pages.init_app(app)
    headers.init_app(app, settings)
    for module in BLUEPRINTS:
        app.register_blueprint(module.blueprint)
    app.before_serving(freeze_startup_heap)
    return app


async def freeze_startup_heap() -> None:
    """Keep what start-up made out of the collector's way: without it, full collections over
    the import-time heap make the slowest requests several times slower (p99)."""
    gc.collect()
    gc.freeze()
