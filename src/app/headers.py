"""Security headers on every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Quart, Response, request

from app.config import Settings


def content_security_policy(settings: Settings) -> str:
    """A strict CSP: own assets only, no inline script, forms only to us and Logto."""
    logto = urlsplit(settings.logto_endpoint)
    # Chrome checks form-action on redirects too: sign-out posts here, then 302s to Logto.
    form_targets = f"'self' {logto.scheme}://{logto.netloc}"
    return (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"form-action {form_targets}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


def init_app(app: Quart, settings: Settings) -> None:
    """Add CSP, nosniff, framing, referrer, caching and (under https) HSTS headers."""
    policy = content_security_policy(settings)

    @app.after_request
    async def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # The callback URL carries the authorization code: never leak it as a referrer.
        referrer = "no-referrer" if request.path == "/callback" else "strict-origin"
        headers.setdefault("Referrer-Policy", referrer)
        if request.blueprint != "static" and request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        if settings.uses_https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
