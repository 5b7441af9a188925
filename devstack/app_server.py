"""Run the app exactly as the Procfile's web: line says, with the settings given."""

import http.client
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from devstack.ports import LOOPBACK, free_port
from devstack.process import ManagedProcess, ProcessError

REPO_ROOT = Path(__file__).resolve().parent.parent
PROCFILE = REPO_ROOT / "Procfile"


class AppServer(ManagedProcess):
    """The app under hypercorn, ready once GET /healthz answers 200."""

    def __init__(
        self,
        settings: Mapping[str, str],
        *,
        port: int | None = None,
        workers: int = 2,
        host: str = LOOPBACK,
        procfile: Path = PROCFILE,
        echo_prefix: str | None = None,
        timeout: float = 30.0,
        keep_lines: int = 40,
    ) -> None:
        self.port = free_port() if port is None else port
        env = {
            **os.environ,
            **settings,
            "PORT": str(self.port),
            "HOST": host,
            "WEB_CONCURRENCY": str(workers),
            "PATH": os.pathsep.join([venv_bin(), os.environ.get("PATH", os.defpath)]),
            "PYTHONUNBUFFERED": "1",
        }
        super().__init__(
            "app",
            procfile_command("web", procfile),
            env=env,
            cwd=procfile.parent,
            ready=self.answers_healthz,
            timeout=timeout,
            echo_prefix=echo_prefix,
            keep_lines=keep_lines,
        )

    @property
    def url(self) -> str:
        """The app's origin as reached from this machine."""
        return f"http://{LOOPBACK}:{self.port}"

    def answers_healthz(self) -> bool:
        """Tell whether GET /healthz answers 200 now."""
        connection = http.client.HTTPConnection(LOOPBACK, self.port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()


def procfile_command(process_type: str = "web", procfile: Path = PROCFILE) -> str:
    """The command of one process type (the text after `web:`) in the Procfile."""
    try:
        lines = procfile.read_text().splitlines()
    except OSError as exc:
        raise ProcessError("app", f"has no Procfile to start from: {exc}") from exc
    for line in lines:
        name, colon, command = line.partition(":")
        if colon and name.strip() == process_type and command.strip():
            return command.strip()
    raise ProcessError("app", f"has no `{process_type}:` line in {procfile}")


def venv_bin() -> str:
    """The bin directory of the running Python's virtualenv (where hypercorn lives)."""
    # Not resolved: the venv's python is a symlink to the base interpreter.
    return str(Path(sys.executable).parent)
