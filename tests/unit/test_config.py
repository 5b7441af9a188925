"""Settings: defaults, derived values, the log format, and what production refuses (one line
per problem)."""

from pathlib import Path

import pytest

from app.config import REQUIRED_IN_PRODUCTION, Settings, SettingsError, load_settings


def test_development_defaults_point_at_the_local_provider() -> None:
    settings = Settings()  # the environment and `.env` as unit tests see them: empty
    assert settings.logto_endpoint == "http://localhost:3001"
    assert settings.base_url == "http://localhost:3000"
    assert not settings.uses_https
    assert len(settings.secret_key) >= 32


def test_dotenv_of_the_working_directory_is_read(isolated_settings: Path) -> None:
    (isolated_settings / ".env").write_text("LOGTO_APP_ID=from-dotenv\nREDIS_TIMEOUT=0.5\n")
    settings = load_settings()
    assert settings.logto_app_id == "from-dotenv" and settings.REDIS_TIMEOUT == 0.5


def test_endpoint_is_normalised() -> None:
    settings = Settings(LOGTO_ENDPOINT="https://tenant.logto.app/oidc/", _env_file=None)
    assert settings.logto_endpoint == "https://tenant.logto.app"


def test_secrets_do_not_appear_in_repr() -> None:
    settings = Settings(
        SECRET_KEY="top-secret-value",
        LOGTO_APP_SECRET="app-secret-value",
        _env_file=None,
    )
    assert "top-secret-value" not in repr(settings)
    assert "app-secret-value" not in repr(settings)


def test_production_names_every_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("LOGTO_APP_ID", "an-app")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    lines = str(raised.value).splitlines()
    assert lines == [
        f"{name} is required when APP_ENV=production"
        for name in REQUIRED_IN_PRODUCTION
        if name != "LOGTO_APP_ID"
    ]


def test_invalid_value_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_TIMEOUT", "soon")
    with pytest.raises(SettingsError, match="REDIS_TIMEOUT"):
        load_settings()


def test_log_format_is_json_in_production_and_text_elsewhere() -> None:
    def plain(**values: object) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    assert plain(APP_ENV="production").log_format == "json"
    assert plain(APP_ENV="development").log_format == "text"
    assert plain(APP_ENV="production", LOG_FORMAT="text").log_format == "text"
    assert plain(APP_ENV="test", LOG_FORMAT="json").log_format == "json"
    assert plain(ACCESS_LOG="").ACCESS_LOG is False
    assert plain(ACCESS_LOG="1").ACCESS_LOG is True


# Production refuses unsafe settings with one line per problem.

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
