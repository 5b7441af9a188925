"""The application factory."""

from quart import Quart
from quart.typing import TestClientProtocol as QuartClient

from app import create_app
from tests.conftest import make_settings


def test_factory_builds_an_app_without_serving() -> None:
    app = create_app(make_settings())
    assert isinstance(app, Quart)
    assert {"/", "/sign-in", "/sign-up", "/callback", "/sign-out", "/profile"} <= {
        rule.rule for rule in app.url_map.iter_rules()
    }


async def test_health_endpoints_answer(client: QuartClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert (await ready.get_json()) == {"status": "ok", "redis": "ok"}


async def test_unknown_page_is_a_404_page(client: QuartClient) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    body = await response.get_data(as_text=True)
    assert "Page not found" in body
    assert "Traceback" not in body


async def test_unexpected_error_is_a_500_page_without_traceback(redis_url: str) -> None:
    app = create_app(make_settings(REDIS_URL=redis_url))

    @app.get("/_test/boom")
    async def boom() -> str:
        raise RuntimeError("secret internal detail")

    async with app.test_app():
        response = await app.test_client().get("/_test/boom")
    body = await response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret internal detail" not in body and "Traceback" not in body


async def test_pages_carry_security_headers(client: QuartClient) -> None:
    response = await client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
