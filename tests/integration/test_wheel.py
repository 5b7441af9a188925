"""The app runs from its built wheel, installed the way a platform installs it, away from the repo.

Slow (about a minute, hence its own timeout): a fresh venv gets requirements.txt (hash-checked,
exact) and then the wheel built from a copy of the sources (`pip install --no-deps`), and the
Procfile's command serves it from a directory outside the repo. Nothing there can reach the
checkout's templates or static files: the wheel must carry them.
"""

from __future__ import annotations

import http.client
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.config import Settings
from devstack import LocalIdp, ManagedProcess, free_port
from devstack.app_server import procfile_command
from devstack.ports import LOOPBACK
from tests.conftest import server_settings
from tests.home_page import shows_signed_out

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "templates"
STATIC = REPO_ROOT / "src" / "app" / "static"
# What building the wheel reads; copied so that the build leaves nothing in the checkout.
BUILD_INPUTS = ("pyproject.toml", "README.md", "src", "templates")

pytestmark = pytest.mark.timeout(600)


@dataclass
class Deployment:
    """A venv holding requirements.txt and the app's wheel, nothing else."""

    python: Path
    wheel: Path


def run(*command: str | Path, cwd: Path | None = None) -> str:
    """Run `command`; fail the test with its output if it fails."""
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    """This environment less what would point Python at the checkout or the test venv."""
    hidden = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"} | set(Settings.model_fields)
    return {name: value for name, value in os.environ.items() if name not in hidden}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """pip install -r requirements.txt, then the wheel with --no-deps, into a fresh venv."""
    work = tmp_path_factory.mktemp("wheel")
    sources = work / "sources"
    sources.mkdir()
    for name in BUILD_INPUTS:
        source = REPO_ROOT / name
        if source.is_dir():
            # symlinks=True: the build itself must turn src/app/templates into files.
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(source, sources / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, sources / name)
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    pip = (python, "-m", "pip", "--disable-pip-version-check")
    run(
        *pip,
        "install",
        "--progress-bar",
        "off",
        "--require-hashes",
        "-r",
        "requirements.txt",
        cwd=REPO_ROOT,
    )
    run(*pip, "wheel", "--no-deps", "--wheel-dir", work / "dist", sources)
    (wheel,) = (work / "dist").glob("*.whl")
    run(*pip, "install", "--no-deps", wheel)
    run(*pip, "check")
    return Deployment(python, wheel)


def test_wheel_carries_the_templates_and_static_files_as_files(deployment: Deployment) -> None:
    with zipfile.ZipFile(deployment.wheel) as wheel:
        shipped = {info.filename: info for info in wheel.infolist()}
        expected = {
            f"app/templates/{path.name}": path for path in sorted(TEMPLATES.glob("*.html"))
        } | {f"app/static/{path.name}": path for path in sorted(STATIC.iterdir())}
        assert expected, "no templates or static files found in the checkout"
        for name, source in expected.items():
            assert name in shipped, f"{name} is not in the wheel"
            assert not stat.S_ISLNK(shipped[name].external_attr >> 16), f"{name} is a link"
            assert wheel.read(name) == source.read_bytes(), f"{name} differs from {source}"


class ServedApp(ManagedProcess):
    """The Procfile's command run with the deployment's python."""

    def __init__(self, env: dict[str, str], cwd: Path, port: int) -> None:
        self.port = port
        super().__init__(
            "app from the wheel",
            procfile_command("web"),
            env=env,
            cwd=cwd,
            ready=lambda: self.get("/healthz")[0] == 200,
            timeout=60,
        )

    def log(self) -> str:
        """What it printed lately, for a failure's message."""
        time.sleep(0.2)  # the last lines are still on their way
        return "\n".join(self.output())

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        """GET `path`: status (0 when unreachable), headers, body."""
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=5)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, headers, response.read()
        except (OSError, http.client.HTTPException):
            return 0, {}, b""
        finally:
            connection.close()


@pytest.fixture
def served_from_wheel(
    deployment: Deployment, idp: LocalIdp, redis_url: str, tmp_path: Path
) -> Iterator[ServedApp]:
    """The app served from the deployment, started in an empty directory outside the repo."""
    located = run(deployment.python, "-c", "import app; print(app.__file__)", cwd=tmp_path)
    assert Path(located.strip()).is_relative_to(deployment.python.parent.parent), located
    port = free_port()
    env = clean_env() | server_settings(idp, redis_url, port)
    env |= {
        "PORT": str(port),
        "HOST": LOOPBACK,
        "WEB_CONCURRENCY": "1",
        "PATH": f"{deployment.python.parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",
    }
    with ServedApp(env, tmp_path, port) as server:
        yield server


def test_app_from_the_wheel_serves_its_pages_and_static_files(
    served_from_wheel: ServedApp, idp: LocalIdp
) -> None:
    server = served_from_wheel

    status, headers, body = server.get("/")
    assert status == 200, server.log()
    page = body.decode()
    assert "<title>Home · Logto Quart</title>" in page
    assert '<link rel="stylesheet" href="/static/app.css">' in page
    assert 'id="sign-in" href="/sign-in"' in page
    assert shows_signed_out(status, page), "the templates in the wheel render the home page"

    status, headers, body = server.get("/static/app.css")
    assert status == 200, server.log()
    assert headers["content-type"].startswith("text/css")
    assert body == (STATIC / "app.css").read_bytes()

    status, headers, _ = server.get("/sign-in")
    assert status == 302, server.log()
    assert headers["location"].startswith(f"{idp.endpoint}/oidc/auth?")
