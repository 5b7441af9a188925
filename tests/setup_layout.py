"""A throwaway repo layout for running the real scripts/setup.sh away from the repo's `.venv`.

scripts/setup.sh works in the directory above its own, so a copy of it in a temporary layout
builds and checks that layout's `.venv`. The layout's project is a tiny one whose build backend is
a file of its own, so `pip install -e '.[dev,bench]'` works offline and in a second.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from tests.commands import run_shell

REPO_ROOT = Path(__file__).resolve().parents[1]
SETUP_SH = REPO_ROOT / "scripts" / "setup.sh"

TINY_PYPROJECT = """\
[build-system]
requires = []
build-backend = "tiny_backend"
backend-path = ["."]

[project]
name = "tiny"
version = "0"
"""
TINY_BACKEND = '''\
"""A PEP 517 backend that writes one fixed wheel (also used as the editable one)."""

import base64
import hashlib
import os
import zipfile

DIST_INFO = "tiny-0.dist-info"
FILES = {
    "tiny.py": "",
    f"{DIST_INFO}/METADATA": "Metadata-Version: 2.1\\nName: tiny\\nVersion: 0\\n"
    "Provides-Extra: dev\\nProvides-Extra: bench\\n",
    f"{DIST_INFO}/WHEEL": "Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\n"
    "Tag: py3-none-any\\n",
}


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "tiny-0-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, text in FILES.items():
            data = text.encode()
            wheel.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(data)}")
        record.append(f"{DIST_INFO}/RECORD,,")
        wheel.writestr(f"{DIST_INFO}/RECORD", "\\n".join(record) + "\\n")
    return name


build_editable = build_wheel
'''


def make_layout(root: Path) -> Path:
    """A repo layout in `root` with the real scripts/setup.sh and a tiny project; returns root."""
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "setup.sh").write_bytes(SETUP_SH.read_bytes())
    (root / "pyproject.toml").write_text(TINY_PYPROJECT)
    (root / "tiny_backend.py").write_text(TINY_BACKEND)
    return root


def fake_python(path: Path, answer: str) -> Path:
    """An executable at `path` that prints `answer`, whatever it is asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{answer}'\n")
    path.chmod(0o755)
    return path


def run_setup(
    root: Path, *, python: str | None = None, path_first: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Source `root`/scripts/setup.sh as scripts/test does, offline, with PYTHON as given."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"PYTHON", "VIRTUAL_ENV", "PYTHONPATH"}
    }
    env["PIP_NO_INDEX"] = "1"
    if python is not None:
        env["PYTHON"] = python
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env['PATH']}"
    return run_shell(
        "bash", "set -euo pipefail; source scripts/setup.sh", cwd=root, env=env, timeout=180
    )


def snapshot(folder: Path) -> dict[str, tuple[bool, bytes, int]]:
    """Every entry under `folder`: whether it is a link, its content (or target), its mtime."""
    entries: dict[str, tuple[bool, bytes, int]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            entries[str(path)] = (True, os.readlink(path).encode(), path.lstat().st_mtime_ns)
        elif path.is_file():
            entries[str(path)] = (False, path.read_bytes(), path.stat().st_mtime_ns)
        else:
            entries[str(path)] = (False, b"", path.stat().st_mtime_ns)
    return entries


def identity(python: str) -> str:
    """What setup.sh records of an interpreter: its version and base interpreter."""
    code = (
        "import os, sys; base = getattr(sys, '_base_executable', None) or sys.executable;"
        " print('%d.%d.%d %s' % (sys.version_info[:3] + (os.path.realpath(base),)))"
    )
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def stamp_as_installed(root: Path) -> None:
    """Mark `root`/.venv as holding the current pyproject.toml, as setup.sh does once installed."""
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
    (root / ".venv" / ".pyproject.sha256").write_text(digest + "\n")
