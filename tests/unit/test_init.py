"""The application factory, and the pages it serves without Redis or Logto."""

from collections.abc import AsyncIterator

import pytest
from quart import Quart

from app import create_app
from tests.conftest import make_settings
from tests.unit.offline_app import offline_app


@pytest.fixture
async def app() -> AsyncIterator[Quart]:
    """The app with nothing to reach: cookie-less pages need neither Redis nor Logto."""
    async with offline_app() as served:
        yield served


def test_factory_builds_an_app_without_serving() -> None:
    app = create_app(make_settings())
    assert isinstance(app, Quart)
    assert {"/", "/sign-in", "/sign-up", "/callback", "/sign-out", "/profile"} <= {
        rule.rule for rule in app.url_map.iter_rules()
    }


async def test_liveness_needs_no_redis(app: Quart) -> None:
    response = await app.test_client().get("/healthz")
    assert response.status_code == 200 and await response.get_json() == {"status": "ok"}


async def test_unknown_page_is_a_404_page(app: Quart) -> None:
    response = await app.test_client().get("/no-such-page")
    assert response.status_code == 404
    body = await response.get_data(as_text=True)
    assert "Page not found" in body
    assert "Traceback" not in body


async def test_unexpected_error_is_a_500_page_without_traceback() -> None:
    async with offline_app() as app:

        @app.get("/_test/boom")
        async def boom() -> str:
            raise RuntimeError("secret internal detail")

        response = await app.test_client().get("/_test/boom")
    body = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret internal detail" not in body and "Traceback" not in body


async def test_pages_carry_security_headers(app: Quart) -> None:
    response = await app.test_client().get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
