"""Settings: defaults, derived values and the production check."""

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
