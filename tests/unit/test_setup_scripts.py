"""scripts/setup.sh refuses a missing or too old Python, in one line, before touching `.venv`.

Each test runs the real scripts/setup.sh from a copy in a temporary directory (see
tests/setup_layout.py), so the repo's own `.venv` is never touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.setup_layout import fake_python, make_layout, run_setup, snapshot


@pytest.mark.parametrize("chosen_by", ["PATH", "PYTHON"])
@pytest.mark.parametrize("venv_exists", [True, False], ids=["old-venv", "no-venv"])
def test_python_below_3_11_is_refused_in_one_line_before_venv_is_touched(
    tmp_path: Path, chosen_by: str, venv_exists: bool
) -> None:
    """A fake stands in for Python 3.10: no Python older than 3.11 is installed here, so this
    fault cannot be produced otherwise. It is a shell script that prints the line a Python 3.10
    prints when setup.sh asks for its version, found as `python3` on PATH (the default) or named
    by PYTHON.
    """
    root = make_layout(tmp_path / "repo")
    fake = fake_python(tmp_path / "bin" / "python3", "3.10.14 /usr/bin/python3.10")
    venv = root / ".venv"
    if venv_exists:
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(sys.executable)
        (venv / ".pyproject.sha256").write_text("stale\n")
    before = snapshot(root)

    if chosen_by == "PATH":
        done = run_setup(root, path_first=fake.parent)
        named = "python3"
    else:
        done = run_setup(root, python=str(fake))
        named = f"PYTHON={fake}"

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: Python 3.11 or newer is needed, but {named} is Python 3.10.14: install a newer"
        " one, or set PYTHON to one (e.g. PYTHON=python3.12)"
    ]
    assert snapshot(root) == before
    assert venv.exists() == venv_exists


def test_missing_python_is_refused_in_one_line(tmp_path: Path) -> None:
    root = make_layout(tmp_path / "repo")
    done = run_setup(root, python="python3.99-not-installed")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: PYTHON=python3.99-not-installed was not found: install Python 3.11 or newer,"
        " or set PYTHON to one (e.g. PYTHON=python3.12)"
    ]
    assert not (root / ".venv").exists()
