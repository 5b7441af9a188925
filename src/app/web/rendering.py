"""Page rendering straight through Jinja.

Quart's `render_template` also runs the template context processors and sends the
before/after-render signals on every call: about a fifth of a signed-in page's time.
The templates use neither (they get what they show as arguments, plus the `url_for` and
`csrf_token` globals), so pages are rendered from the app's Jinja environment directly.
"""

from __future__ import annotations

from typing import Any

from quart import current_app


async def render_page(name: str, **context: Any) -> str:
    """Render template `name` with `context` and the environment's globals."""
    template = current_app.jinja_env.get_template(name)
    return await template.render_async(**context)
