"""The public API for your own pages: who is signed in, guards, and Logto's tokens.

    from app.auth import current_user, login_required, require_access_token, logto

- `current_user`: the signed-in user (`is_authenticated`, `sub`, `name`, `username`,
  `email`, `picture`, `sid`, `claims`), in every request and every template.
- `@login_required`: a signed-out GET goes to /sign-in?next=<here>; other methods get 401.
- `@require_access_token(*scopes)`: the bearer-token guard of /api/me for any route
  (401/403 JSON; the verified claims in `g.access_token_claims`); user tokens only, unless
  `organization=True` (then organization tokens only, the id in `g.access_token_organization`).
- `logto`: the app's `LogtoAuth` (`current_app.extensions["logto"]`):
  `await logto.access_token(resource)`, `await logto.organization_token(id)`,
  `await logto.user_info()`, and the rest of its methods.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec

from quart import redirect, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.local import LocalProxy

from app.errors import AppError
from app.oidc.bearer import access_token_claims, guard_access_token
from app.oidc.extension import LogtoAuth, current_auth
from app.oidc.user import CurrentUser, current_user

__all__ = [
    "CurrentUser",
    "LogtoAuth",
    "access_token_claims",
    "current_user",
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


def require_access_token(
    *scopes: str, audience: str | None = None, organization: bool = False
) -> Callable[[View[P]], View[P]]:
    """Let a request through only with a valid access token for `audience` (API_RESOURCE by
    default) that grants every one of `scopes`: a user token, or with `organization=True` an
    organization token (its id in `g.access_token_organization`)."""
    return guard_access_token(
        lambda: current_auth().parts, scopes, audience, organization=organization
    )
