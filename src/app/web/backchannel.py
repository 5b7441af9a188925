"""POST /backchannel-logout: OpenID Connect Back-Channel Logout 1.0, called by Logto.

Logto posts a signed logout token when a user's Logto session ends (signed out in another
app, or by an administrator). A valid token ends every app session bound to its `sid` (or,
without one, every session of its `sub`) on every worker and host. Anything else is a 400
JSON error that ends nothing. No cookie, no CSRF token: it is a server-to-server call.
"""

from __future__ import annotations

import aiohttp
import jwt
from quart import Blueprint, current_app, request
from quart.typing import ResponseReturnValue

from app.auth import logto
from app.errors import AppError
from app.observability import metrics

blueprint = Blueprint("backchannel", __name__)


def refused(reason: str) -> AppError:
    """The 400 answer for a logout request that ends nothing."""
    current_app.logger.info("Back-channel logout refused: %s", reason)
    metrics.backchannel_logouts.labels("refused").inc()
    return AppError(400, reason, code="invalid_request")


@blueprint.post("/backchannel-logout")
async def backchannel_logout() -> ResponseReturnValue:
    """Verify the logout token, then end the sessions it names."""
    token = (await request.form).get("logout_token", "")
    if not token:
        raise refused("The form has no logout_token.")
    try:
        ended = await logto.backchannel_logout(token)
    except jwt.PyJWTError as error:
        raise refused(f"The logout token is not valid: {error}") from error
    except (TimeoutError, aiohttp.ClientError, AppError) as error:
        raise refused(f"The logout token cannot be checked now: {error}") from error
    if ended is None:
        raise refused("The logout token was used before.")
    current_app.logger.info("Back-channel logout ended %d session(s)", ended)
    metrics.backchannel_logouts.labels("ok").inc()
    return {"ended": ended}
