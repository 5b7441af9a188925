"""Run a shell command as a test does: its output captured as text, its exit code returned."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def run_shell(
    shell: str, script: str, *, cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `script` with `shell -c` in `cwd` with exactly `env`; never raises on a failure."""
    return subprocess.run(
        [shell, "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
