"""The public API for your own pages: who is signed in, guards, and Logto's tokens.

    from app.auth import current_user, login_required, fresh_login_required, logto

- `current_user`: the signed-in user (`is_authenticated`, `sub`, `name`, `username`,
  `email`, `picture`, `sid`, `claims`), in every request and every template.
- `@login_required`: a signed-out GET goes to /sign-in?next=<here>; other methods get 401.
- `@fresh_login_required`: also wants an authentication at Logto within REAUTH_MAX_AGE;
  otherwise the action is not run and the browser re-authenticates, then comes back.
- `@require_access_token(*scopes)`: the bearer-token guard of /api/me for any route
  (401/403 JSON; the verified claims in `g.access_token_claims`); user tokens only, unless
  `organization=True` (then organization tokens only, the id in `g.access_token_organization`).
- `logto`: the app's `LogtoAuth` (`current_app.extensions["logto"]`):
  `await logto.access_token(resource)`, `await logto.organization_token(id)`,
  `await logto.user_info()`, `await logto.update_profile(name=...)` (ProfileRefused when
  refused), and the rest of its methods.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec
from urllib.parse import urlsplit

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.local import LocalProxy

from app.errors import AppError
from app.oidc.account import ProfileRefused
from app.oidc.bearer import access_token_claims, guard_access_token
from app.oidc.extension import LogtoAuth, current_auth
from app.oidc.reauth import ReauthenticationRefused
from app.oidc.user import CurrentUser, current_user

__all__ = [
    "CurrentUser",
    "LogtoAuth",
    "ProfileRefused",
    "ReauthenticationRefused",
    "access_token_claims",
    "current_user",
    "fresh_login_required",
    "login_required",
    "logto",
    "require_access_token",
]

P = ParamSpec("P")
View = Callable[P, Awaitable[ResponseReturnValue]]


if TYPE_CHECKING:  # to type checkers, the proxy is what it stands for
    logto: LogtoAuth
else:
    logto = LocalProxy(current_auth)


def login_required(view: View[P]) -> View[P]:
    """Let only signed-in users in: a signed-out GET goes to /sign-in and back here after."""

    @wraps(view)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if not current_user.is_authenticated:
            if request.method not in {"GET", "HEAD"}:
                raise AppError(401, "Please sign in first.", offer_sign_in=True)
            query = request.query_string.decode()
            here = f"{request.path}?{query}" if query else request.path
            return redirect(url_for("auth.sign_in", next=here))
        return await view(*args, **kwargs)

    return guarded


def fresh_login_required(view: View[P]) -> View[P]:
    """Like login_required, and the user must have authenticated at Logto within
    REAUTH_MAX_AGE (the ID token's auth_time); otherwise the view does not run.

    A GET then goes (302) to /sign-in?reauth=1&next=<here>; any other method is sent (303) to
    the same re-authentication, returning to the page the action started from: the form's
    or the query's `next` (a same-site path), else the Referer's path, else /. The user
    repeats the action there.
    """

    @wraps(view)
    async def fresh(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_auth().authenticated_recently():
            return await view(*args, **kwargs)
        if request.method in {"GET", "HEAD"}:
            return redirect(url_for("auth.sign_in", reauth="1", next=_here()))
        started_from = await _started_from()
        return redirect(url_for("auth.sign_in", reauth="1", next=started_from), 303)

    return login_required(fresh)


def _here() -> str:
    query = request.query_string.decode()
    return f"{request.path}?{query}" if query else request.path


async def _started_from() -> str:
    """The page a (non-GET) action started from; /sign-in checks that it is a same-site path."""
    form = await request.form
    if explicit := form.get("next") or request.args.get("next"):
        return explicit
    referer = urlsplit(request.headers.get("Referer", ""))
    if f"{referer.scheme}://{referer.netloc}" in {
        current_auth().settings.base_url,
        request.host_url.rstrip("/"),
    }:
        return f"{referer.path}?{referer.query}" if referer.query else referer.path or "/"
    return "/"


def require_access_token(
    *scopes: str, audience: str | None = None, organization: bool = False
) -> Callable[[View[P]], View[P]]:
    """Let a request through only with a valid access token for `audience` (API_RESOURCE by
    default) that grants every one of `scopes`: a user token, or with `organization=True` an
    organization token (its id in `g.access_token_organization`)."""
    return guard_access_token(
        lambda: current_auth().parts, scopes, audience, organization=organization
    )
