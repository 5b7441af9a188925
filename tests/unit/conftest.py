"""Unit tests run alone: no Redis, no provider, no developer `.env`, no settings from the shell.

Settings read `.env` from the working directory and every setting from the environment, so
each unit test runs in an empty temporary directory with those variables unset. Tests that
need Redis belong in tests/integration: here the `redis_url` fixture (and so `redis`, `app`
and `client` of tests/conftest.py) fails the test instead of starting a server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings

# Read by the Procfile's hypercorn config rather than by Settings.
SERVER_VARIABLES = ("PORT", "HOST", "WEB_CONCURRENCY", "ACCESS_LOG")


def setting_names() -> set[str]:
    """Every environment variable the app's settings read (their names are the field names)."""
    return set(Settings.model_fields) | set(SERVER_VARIABLES)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty directory (no `.env`) with no setting in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in setting_names():
        monkeypatch.delenv(name, raising=False)
    yield tmp_path


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Unit tests have no Redis: a test asking for one belongs in tests/integration."""
    pytest.fail("unit tests run without Redis: move this test to tests/integration")
