"""Security headers on every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import Quart, Response, request

from app.config import Settings


def content_security_policy(settings: Settings) -> str:
    """A strict CSP: own assets only, no inline script, forms only to us and Logto."""
    logto = urlsplit(settings.logto_endpoint)
    # Chrome checks form-action on redirects too: sign-out posts here, then 302s to Logto.
    # img-src https: lets a profile show the user's own picture (Logto keeps it elsewhere).
    form_targets = f"'self' {logto.scheme}://{logto.netloc}"
    return (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data: https:; "
        f"form-action {form_targets}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )


def fixed_headers(settings: Settings) -> list[tuple[str, str]]:
    """The headers every response gets, computed once: CSP, nosniff, framing, HSTS."""
    headers = [
        ("Content-Security-Policy", content_security_policy(settings)),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
    ]
    if settings.uses_https:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def init_app(app: Quart, settings: Settings) -> None:
    """Add the fixed headers, a Referrer-Policy, and no-store on every page but static files."""
    fixed = fixed_headers(settings)

    @app.after_request
    async def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.extend(fixed)  # no view sets these, so no per-header lookups are needed
        # The callback URL carries the authorization code: never leak it as a referrer.
        path = request.path
        headers["Referrer-Policy"] = "no-referrer" if path == "/callback" else "strict-origin"
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        return response
