"""Read settings the way the app does: the environment over the repo's .env file."""

import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = REPO_ROOT / ".env"


def read_settings(
    env_file: Path = ENV_FILE, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment variables over .env values; an empty value counts as unset."""
    values: dict[str, str] = {}
    if env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return {name: value for name, value in values.items() if value != ""}
