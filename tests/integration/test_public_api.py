"""The public API for a developer's own pages (app.auth, app.testing), through real requests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from quart import Quart, current_app, render_template_string
from quart.typing import ResponseReturnValue

from app import create_app
from app.auth import LogtoAuth, current_user, login_required, logto
from app.testing import signed_in
from tests.conftest import make_settings

FIELDS = ("is_authenticated", "sub", "name", "username", "email", "picture", "sid")


@pytest.fixture
async def api_app(redis_url: str) -> AsyncIterator[Quart]:
    """The app with routes that show what the public API says."""
    application = create_app(make_settings(REDIS_URL=redis_url))

    @application.get("/_test/who")
    async def who() -> ResponseReturnValue:
        return {
            **{name: getattr(current_user, name) for name in FIELDS},
            "claims": current_user.claims,
            "same_extension": logto.settings is current_app.extensions["logto"].settings,
        }

    @application.route("/_test/guarded", methods=["GET", "POST"])
    @login_required
    async def guarded() -> ResponseReturnValue:
        return await render_template_string("{{ current_user.name }}")

    async with application.test_app():
        yield application


async def test_current_user_of_a_signed_in_session(api_app: Quart) -> None:
    claims = {"username": "ann", "email": "ann@example.test", "picture": "https://p.test/a"}
    async with signed_in(api_app, sub="user-1", sid="logto-sid", **claims) as client:
        answer = await (await client.get("/_test/who")).get_json()
    assert answer["is_authenticated"] is True
    assert answer["sub"] == "user-1" and answer["sid"] == "logto-sid"
    assert answer["name"] == "ann", "no name: the username greets"
    assert (answer["username"], answer["email"], answer["picture"]) == (
        "ann",
        "ann@example.test",
        "https://p.test/a",
    )
    assert answer["claims"]["sub"] == "user-1" and answer["same_extension"] is True


async def test_current_user_signed_out_is_all_none(api_app: Quart) -> None:
    answer = await (await api_app.test_client().get("/_test/who")).get_json()
    assert answer["is_authenticated"] is False
    assert all(answer[name] is None for name in FIELDS[1:])
    assert answer["claims"] == {}


async def test_login_required_redirects_a_get_and_refuses_other_methods(api_app: Quart) -> None:
    client = api_app.test_client()
    get = await client.get("/_test/guarded?tab=2")
    assert get.status_code == 302
    assert get.headers["Location"] == "/sign-in?next=/_test/guarded?tab%3D2"
    post = await client.post("/_test/guarded")
    assert post.status_code == 401
    assert "sign in" in (await post.get_data(as_text=True)).lower()


async def test_login_required_lets_the_signed_in_user_in(api_app: Quart) -> None:
    async with signed_in(api_app, sub="user-3", name="Cy") as client:
        response = await client.get("/_test/guarded")
        assert response.status_code == 200
        assert await response.get_data(as_text=True) == "Cy"


def test_the_extension_follows_the_init_app_pattern(redis_url: str) -> None:
    application = Quart(__name__)
    extension = LogtoAuth(settings=make_settings(REDIS_URL=redis_url))
    assert "logto" not in application.extensions
    extension.init_app(application)
    assert application.extensions["logto"] is extension
    assert application.session_interface is extension.store
