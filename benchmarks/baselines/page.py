"""The page every baseline serves: the app's signed-in home page, as one Jinja template."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE = "page.html"
USER_NAME = "Bench"


def csrf_token(secret_key: str, session_id: str) -> str:
    """An HMAC of the session id, computed per page as the app computes its CSRF token."""
    message = f"csrf:{session_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def render_once() -> bytes:
    """The page rendered once, for the bare ASGI app that only sends bytes."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, enable_async=False
    )
    token = csrf_token("bare", "bare")
    return environment.get_template(PAGE).render(user_name=USER_NAME, csrf_token=token).encode()
