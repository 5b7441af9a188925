"""CSRF protection for state-changing form posts, bound to the session id."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec
from urllib.parse import urlsplit

from quart import request
from quart.typing import ResponseReturnValue

from app.auth import logto
from app.errors import AppError

P = ParamSpec("P")

FIELD = "csrf_token"


def csrf_token() -> str:
    """The token for forms of this session: an HMAC of the session id under SECRET_KEY."""
    message = f"csrf:{logto.session_id()}".encode()
    return hmac.new(logto.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_cross_site() -> bool:
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin not in {_origin(logto.settings.base_url), _origin(request.host_url)}


async def verify_csrf() -> None:
    """Raise a 403 AppError unless the posted form carries this session's token from our site."""
    form = await request.form
    sent = form.get(FIELD, "")
    if _is_cross_site() or not hmac.compare_digest(sent, csrf_token()):
        raise AppError(403, "This form expired or came from another site. Please try again.")


def csrf_protected(
    view: Callable[P, Awaitable[ResponseReturnValue]],
) -> Callable[P, Awaitable[ResponseReturnValue]]:
    """Check the form's CSRF token before anything else the view (or its guards) would do."""

    @wraps(view)
    async def checked(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        await verify_csrf()
        return await view(*args, **kwargs)

    return checked
