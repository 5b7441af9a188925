"""app/__init__.py: the application factory builds the app without serving it."""

from quart import Quart

from app import create_app
from tests.conftest import make_settings


def test_factory_builds_an_app_without_serving() -> None:
    app = create_app(make_settings())
    assert isinstance(app, Quart)
    assert {"/", "/sign-in", "/sign-up", "/callback", "/sign-out", "/profile"} <= {
        rule.rule for rule in app.url_map.iter_rules()
    }
