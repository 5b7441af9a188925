"""This app's own API under /api/, protected by Logto access tokens (see app.auth).

No session is read or written under /api/: the session store skips these paths.
"""

from __future__ import annotations

from quart import Blueprint
from quart.typing import ResponseReturnValue

from app.auth import access_token_claims, require_access_token
from app.oidc.bearer import scopes_of

blueprint = Blueprint("api", __name__, url_prefix="/api")


@blueprint.get("/me")
@require_access_token()
async def me() -> ResponseReturnValue:
    """Who the access token was issued to, with its scopes and client."""
    claims = access_token_claims()
    return {"sub": claims["sub"], "scope": scopes_of(claims), "client_id": claims.get("client_id")}
