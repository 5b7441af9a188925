"""Organization-level API tokens (Logto: `organization_id`) at this app's API guard.

Tokens are signed by the hostile test provider: the local provider issues organization
tokens only for its organization URN audience, not for an API resource with an
`organization_id` claim as Logto does for organization-level API resources.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart, g
from quart.typing import ResponseReturnValue

from app.auth import require_access_token
from tests.hostile_provider import HostileProvider, serving_app
from tests.integration.test_api_bearer import ACCESS_TOKENS, RESOURCE


def token(provider: HostileProvider, **changes: Any) -> str:
    """An access token for RESOURCE with read:reports, with `changes` to its claims."""
    return ACCESS_TOKENS.token(sub="user-1", scope="read:reports", **changes)(provider)


@pytest.fixture
async def api_app(redis_url: str, hostile: HostileProvider) -> AsyncIterator[Quart]:
    """The app with a user-level and an organization-level reports route."""
    async with serving_app(hostile, redis_url, API_RESOURCE=RESOURCE) as app:

        @app.get("/api/reports")
        @require_access_token("read:reports")
        async def reports() -> ResponseReturnValue:
            return {"for": g.access_token_claims["sub"]}

        @app.get("/api/org-reports")
        @require_access_token("read:reports", organization=True)
        async def organization_reports() -> ResponseReturnValue:
            return {"organization": g.access_token_organization}

        yield app


async def get(app: Quart, path: str, bearer: str) -> Any:
    return await app.test_client().get(path, headers={"Authorization": f"Bearer {bearer}"})


@pytest.mark.parametrize("path", ["/api/me", "/api/reports"])
async def test_an_organization_token_is_refused_where_user_tokens_are_meant(
    api_app: Quart, hostile: HostileProvider, path: str
) -> None:
    response = await get(api_app, path, token(hostile, organization_id="org-123"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "organization" in (await response.get_json())["error_description"]


async def test_a_user_token_passes_where_user_tokens_are_meant(
    api_app: Quart, hostile: HostileProvider
) -> None:
    response = await get(api_app, "/api/reports", token(hostile))
    assert response.status_code == 200
    assert await response.get_json() == {"for": "user-1"}


async def test_a_route_that_opts_in_gets_the_organization(
    api_app: Quart, hostile: HostileProvider
) -> None:
    response = await get(api_app, "/api/org-reports", token(hostile, organization_id="org-123"))
    assert response.status_code == 200
    assert await response.get_json() == {"organization": "org-123"}


@pytest.mark.parametrize("organization_id", [None, "", 7])
async def test_a_route_that_opts_in_refuses_tokens_without_an_organization(
    api_app: Quart, hostile: HostileProvider, organization_id: Any
) -> None:
    changes = {} if organization_id is None else {"organization_id": organization_id}
    response = await get(api_app, "/api/org-reports", token(hostile, **changes))
    assert response.status_code == 401
