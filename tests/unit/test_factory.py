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
