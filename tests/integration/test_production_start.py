"""The Procfile command refuses to start in production without its settings."""

import os
import subprocess
import time
from pathlib import Path

from app.config import REQUIRED_IN_PRODUCTION
from devstack.app_server import procfile_command, venv_bin
from devstack.ports import free_port
from tests.commands import run_shell

# Settings production accepts, for a test to spoil one or two of.
PRODUCTION_ENV = {
    "APP_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "LOGTO_ENDPOINT": "https://tenant.logto.app",
    "LOGTO_APP_ID": "an-app",
    "LOGTO_APP_SECRET": "an-app-secret",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "BASE_URL": "https://app.example.com",
}


def run_procfile(extra_env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the Procfile's web command in `cwd` (away from any developer `.env`)."""
    env = {name: value for name, value in os.environ.items() if name not in REQUIRED_IN_PRODUCTION}
    env.update(PATH=f"{venv_bin()}:{os.environ['PATH']}", PORT=str(free_port()), HOST="127.0.0.1")
    env.update(extra_env)
    return run_shell("sh", procfile_command("web"), cwd=cwd, env=env, timeout=60)


def test_production_without_settings_fails_with_one_line_each(tmp_path: Path) -> None:
    env = {"APP_ENV": "production", "WEB_CONCURRENCY": "2"}
    started = time.monotonic()
    done = run_procfile(env, tmp_path)
    assert done.returncode == 1
    assert time.monotonic() - started < 30
    assert done.stderr.strip().splitlines() == [
        f"{name} is required when APP_ENV=production" for name in REQUIRED_IN_PRODUCTION
    ]
    assert "Traceback" not in done.stderr + done.stdout


def test_procfile_defaults_to_production(tmp_path: Path) -> None:
    done = run_procfile({"APP_ENV": ""}, tmp_path)
    assert done.returncode == 1
    assert "SECRET_KEY is required when APP_ENV=production" in done.stderr


def test_production_refuses_unsafe_base_url_and_secret_key(tmp_path: Path) -> None:
    env = {**PRODUCTION_ENV, "SECRET_KEY": "too-short", "BASE_URL": "http://app.example.com"}
    done = run_procfile(env, tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert [line.split(" ")[0] for line in lines] == ["SECRET_KEY", "BASE_URL"], lines
    assert "Traceback" not in done.stderr + done.stdout
