"""scripts/setup.sh rebuilds a `.venv` that another Python made, and keeps its own.

Each test runs the real scripts/setup.sh from a copy in a temporary directory, with a tiny project
that installs offline (see tests/setup_layout.py), so the repo's own `.venv` is never touched.
Each makes a venv: a few seconds apiece.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.setup_layout import (
    fake_python,
    identity,
    make_layout,
    run_setup,
    stamp_as_installed,
)


def stale_venv(venv: Path, python: str | None) -> None:
    """A `.venv` whose python is `python` (a dangling link when None), installed and stamped
    as current, with a marker file that a rebuild removes."""
    (venv / "bin").mkdir(parents=True)
    if python is None:
        (venv / "bin" / "python").symlink_to(venv.parent / "removed-python3.11")
    else:
        fake_python(venv / "bin" / "python", python)
    stamp_as_installed(venv.parent)
    (venv / "made-by-the-old-python").write_text("")


@pytest.mark.parametrize(
    ("old_python", "made_by"),
    [
        ("3.10.14 /usr/bin/python3.10", "Python 3.10.14 (/usr/bin/python3.10)"),
        ("3.11.0 /opt/another/bin/python3.11", "Python 3.11.0 (/opt/another/bin/python3.11)"),
        (None, "a Python that no longer runs"),
    ],
    ids=["older-version", "other-interpreter", "interpreter-gone"],
)
def test_venv_made_by_another_python_is_rebuilt_then_kept(
    tmp_path: Path, old_python: str | None, made_by: str
) -> None:
    """The `.venv` that another Python made is faked: its bin/python a script printing that
    Python's version and path (or a link to an interpreter that was removed), since only one
    Python is installed here.
    """
    root = make_layout(tmp_path / "repo")
    venv = root / ".venv"
    stale_venv(venv, old_python)
    python = sys.executable  # this test run's venv: setup.sh must see through it to its base

    done = run_setup(root, python=python)

    assert done.returncode == 0, done.stderr
    version = ".".join(map(str, sys.version_info[:3]))
    assert done.stderr.splitlines()[0] == (
        f"Rebuilding .venv: it was made by {made_by}, not by Python {version} (PYTHON={python})..."
    )
    assert not (venv / "made-by-the-old-python").exists()
    assert identity(str(venv / "bin" / "python")) == identity(python)
    assert "Installing the project and its dependencies into .venv" in done.stderr
    assert "Successfully installed tiny-0" in done.stderr  # pip's own progress shows
    subprocess.run([venv / "bin" / "python", "-c", "import tiny"], check=True)

    # Made by the Python asked for, and installed: the next run leaves it alone.
    (venv / "kept").write_text("")
    again = run_setup(root, python=python)
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    assert (venv / "kept").exists()


def test_venv_made_by_the_same_python_before_it_was_recorded_is_kept(tmp_path: Path) -> None:
    """A `.venv` made before setup.sh recorded its maker (as every existing one was) is asked
    which Python made it, and kept when that is the Python asked for."""
    root = make_layout(tmp_path / "repo")
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    stamp_as_installed(root)
    (venv / "kept").write_text("")

    done = run_setup(root, python=sys.executable)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (venv / "kept").exists()
