"""Page rendering straight through Jinja, and the filters the templates share.

Quart's `render_template` also runs the template context processors and sends the
before/after-render signals on every call: about a fifth of a signed-in page's time.
Pages are rendered from the app's Jinja environment directly; what every page needs (the
signed-in user, the CSRF token) comes from environment globals registered at start-up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import Quart, current_app

# Claims that hold a time: seconds in tokens, milliseconds in Logto's userinfo.
TIME_CLAIMS = frozenset({"iat", "exp", "nbf", "auth_time", "created_at", "updated_at"})
MILLISECONDS_FROM = 10**11  # a number above this is a time in ms (from year 1973 on)


async def render_page(name: str, **context: Any) -> str:
    """Render template `name` with `context` and the environment's globals."""
    template = current_app.jinja_env.get_template(name)
    return await template.render_async(**context)


def display_name(claims: dict[str, Any] | None) -> str:
    """The name to greet the user with: name, else username, else the subject id."""
    for key in ("name", "username", "sub"):
        value = (claims or {}).get(key)
        if isinstance(value, str) and value:
            return value
    return "there"


def initials(claims: dict[str, Any] | None) -> str:
    """One or two capital letters for an avatar without a picture."""
    words = display_name(claims).replace("_", " ").replace(".", " ").split()
    return "".join(word[0] for word in words[:2]).upper() or "?"


def as_time(value: Any) -> datetime | None:
    """A claim's number as a UTC time (seconds or milliseconds since 1970), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = value / 1000 if value > MILLISECONDS_FROM else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def readable_time(value: Any) -> str:
    """A time claim as "24 Nov 2026, 02:14 UTC"; other values unchanged, as text."""
    moment = as_time(value)
    return moment.strftime("%-d %b %Y, %H:%M UTC") if moment else str(value)


def claim_value(name: str, value: Any) -> str:
    """A claim for people: times as dates, lists joined, everything else as text."""
    if name in TIME_CLAIMS:
        return readable_time(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return str(value)


def init_app(app: Quart) -> None:
    """Register the filters the templates use."""
    app.jinja_env.filters.update(
        display_name=display_name,
        initials=initials,
        readable_time=readable_time,
        claim_value=claim_value,
    )
