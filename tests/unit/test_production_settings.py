"""Production refuses unsafe settings with one line per problem."""

from __future__ import annotations

import pytest

from app.config import Settings, SettingsError

SAFE = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 32,
    "LOGTO_ENDPOINT": "https://tenant.logto.app",
    "LOGTO_APP_ID": "an-app",
    "LOGTO_APP_SECRET": "an-app-secret",
    "REDIS_URL": "rediss://redis.internal:6380/0",
    "BASE_URL": "https://app.example.com",
}


def settings(**changes: str | None) -> Settings:
    """SAFE with `changes` (None unsets a setting), ignoring any `.env`."""
    values = {name: value for name, value in {**SAFE, **changes}.items() if value is not None}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def problems(**changes: str | None) -> list[str]:
    """The production problems of SAFE with `changes`."""
    return settings(**changes).production_problems()


def test_safe_settings_have_no_problems() -> None:
    assert problems() == []
    settings().check()


def test_missing_base_url_is_refused() -> None:
    assert problems(BASE_URL=None) == ["BASE_URL is required when APP_ENV=production"]


@pytest.mark.parametrize(
    "url", ["http://app.example.com", "ftp://app.example.com", "https://", "app.example.com"]
)
def test_base_url_that_is_not_https_is_refused(url: str) -> None:
    [line] = problems(BASE_URL=url)
    assert line.startswith("BASE_URL must be an https:// origin") and repr(url) in line


@pytest.mark.parametrize(
    "url", ["http://localhost:3000", "http://127.0.0.1:8000", "http://[::1]:3000"]
)
def test_plain_http_is_accepted_on_loopback(url: str) -> None:
    assert problems(BASE_URL=url) == []


def test_short_secret_key_is_refused() -> None:
    [line] = problems(SECRET_KEY="s" * 31)
    assert line.startswith("SECRET_KEY must be at least 32 characters (it has 31)")


def test_every_problem_is_one_line_of_the_error() -> None:
    with pytest.raises(SettingsError) as raised:
        settings(BASE_URL="http://x.example", SECRET_KEY="short").check()
    assert len(str(raised.value).splitlines()) == 2


def test_outside_production_nothing_is_refused() -> None:
    settings(APP_ENV="development", BASE_URL="http://x.example", SECRET_KEY="short").check()
