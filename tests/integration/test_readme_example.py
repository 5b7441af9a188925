"""The README's "Your own pages" example, run as written: its module, its app, its tests."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest
from quart import Quart

import app as app_package
from app import create_app
from app.testing import signed_in
from devstack import LocalIdp
from tests.conftest import API_RESOURCE
from tests.in_process_sign_in import in_process_settings, sign_in_in_process

README = Path(__file__).resolve().parents[2] / "README.md"


def example_blocks() -> list[str]:
    """The python blocks of the README's "Your own pages" section, in order."""
    text = README.read_text()
    section = text.split("## Your own pages", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    """reports.py, myapp.py and the tests, written out as the README has them and imported."""
    _, reports, myapp, tests = example_blocks()
    folder = tmp_path_factory.mktemp("readme_example")
    for name, code in (("reports", reports), ("myapp", myapp), ("readme_tests", tests)):
        (folder / f"{name}.py").write_text(code)
    sys.path.insert(0, str(folder))
    try:
        yield {name: importlib.import_module(name) for name in ("reports", "myapp", "readme_tests")}
    finally:
        sys.path.remove(str(folder))
        for name in ("reports", "myapp", "readme_tests"):
            sys.modules.pop(name, None)


@pytest.fixture
async def example_app(
    example: dict[str, ModuleType],
    redis_url: str,
    idp: LocalIdp,
    app_ports: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Quart]:
    """myapp.create_app() as the README writes it, on the test Redis and the local provider."""
    settings = in_process_settings(idp, redis_url, app_ports, API_RESOURCE=API_RESOURCE)
    monkeypatch.setattr(app_package, "create_app", lambda: create_app(settings))
    application: Quart = example["myapp"].create_app()
    async with application.test_app():
        yield application


def test_the_readme_has_the_example_blocks() -> None:
    first, reports, myapp, tests = example_blocks()
    assert first.strip() == (
        "from app.auth import current_user, fresh_login_required, login_required, logto, "
        "require_access_token"
    )
    assert "from app.auth import" in reports and "app.testing" in tests and "create_app" in myapp


@pytest.mark.parametrize(
    "name",
    [
        "test_the_reports_page_greets_the_signed_in_user",
        "test_the_reports_page_sends_signed_out_visitors_to_sign_in",
        "test_the_export_wants_a_recent_sign_in",
        "test_the_reports_api_wants_an_access_token",
    ],
)
async def test_the_readmes_tests_pass(
    example: dict[str, ModuleType], example_app: Quart, name: str
) -> None:
    await getattr(example["readme_tests"], name)(example_app)


async def test_the_example_gets_an_access_token_through_a_real_sign_in(
    example_app: Quart, http: aiohttp.ClientSession
) -> None:
    client = example_app.test_client()
    callback = await sign_in_in_process(client, http, "reporter")
    assert callback.status_code == 302, await callback.get_data(as_text=True)
    page = await client.get("/reports")
    assert "Reports for Reporter" in await page.get_data(as_text=True)
    token = await client.get("/reports/token")
    assert token.status_code == 200, await token.get_data(as_text=True)
    assert await token.get_json() == {"user": "Reporter", "token_received": True}


async def test_signed_in_ends_its_session_afterwards(example_app: Quart) -> None:
    async with signed_in(example_app, sub="user-2", name="Bo") as client:
        assert (await client.get("/reports")).status_code == 200
    # The same cookie now names no session: the page sends the visitor to sign in.
    response = await client.get("/reports")
    assert response.status_code == 302
