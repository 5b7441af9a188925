# shellcheck shell=bash
# Shared set-up for scripts/run, scripts/test and the other scripts, sourced by them (not run on
# its own): go to the repo root, check the Python, then bring .venv and local-idp/node_modules up to
# date. Each is reinstalled only when its input changed, tracked by a stamp holding that input's
# hash; .venv is made anew when it was made by another Python than the one asked for.
#
# PYTHON names the interpreter to build .venv with (default python3); it must be 3.11 or newer.

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

# How the messages name the interpreter: as the user set it, or as the default it is.
if [[ -n "${PYTHON:-}" ]]; then
  PYTHON_NAME="PYTHON=$PYTHON"
else
  PYTHON=python3
  PYTHON_NAME=python3
fi
MIN_PYTHON_MAJOR=3
MIN_PYTHON_MINOR=11

# pip warns about configured package folders that this machine does not have; only those
# lines are dropped, everything else pip says (errors included) still shows.
PIP_NOISE="^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$"

# Prints "<major>.<minor>.<micro> <real path of the base interpreter>": which Python this is, and,
# run by a venv's python, which Python made that venv. Written to run on any Python, old ones too.
PYTHON_IDENTITY_CODE='import os, sys
base = getattr(sys, "_base_executable", None) or sys.executable
print("%d.%d.%d %s" % (sys.version_info[0], sys.version_info[1], sys.version_info[2],
                       os.path.realpath(base)))'

file_hash() {
  sha256sum "$1" | cut -d' ' -f1
}

stamp_matches() {
  [[ -f "$1" && "$(<"$1")" == "$2" ]]
}

python_identity() {
  "$1" -c "$PYTHON_IDENTITY_CODE" 2>/dev/null
}

# Refuse, with one line and before anything is touched, a PYTHON that is missing or too old.
# Sets PYTHON_IDENTITY for ensure_venv.
check_python() {
  local version major minor
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON_NAME was not found: install Python $MIN_PYTHON_MAJOR.$MIN_PYTHON_MINOR or newer, or set PYTHON to one (e.g. PYTHON=python3.12)" >&2
    exit 1
  fi
  PYTHON_IDENTITY="$(python_identity "$PYTHON")" || PYTHON_IDENTITY=""
  version="${PYTHON_IDENTITY%% *}"
  IFS=. read -r major minor _ <<<"$version"
  if [[ ! "$major" =~ ^[0-9]+$ || ! "$minor" =~ ^[0-9]+$ ]]; then
    echo "error: $PYTHON_NAME did not run as a Python: install Python $MIN_PYTHON_MAJOR.$MIN_PYTHON_MINOR or newer, or set PYTHON to one (e.g. PYTHON=python3.12)" >&2
    exit 1
  fi
  if ((major < MIN_PYTHON_MAJOR || (major == MIN_PYTHON_MAJOR && minor < MIN_PYTHON_MINOR))); then
    echo "error: Python $MIN_PYTHON_MAJOR.$MIN_PYTHON_MINOR or newer is needed, but $PYTHON_NAME is Python $version: install a newer one, or set PYTHON to one (e.g. PYTHON=python3.12)" >&2
    exit 1
  fi
}

# The identity of the Python that made venv $1: recorded when this script made it, else (a venv
# made before the record existed) what its own python says; empty when that python no longer runs.
venv_made_by() {
  "$1/bin/python" -c "" >/dev/null 2>&1 || return 0
  if [[ -f "$1/.python-identity" ]]; then
    cat "$1/.python-identity"
  else
    python_identity "$1/bin/python" || true
  fi
}

# Make venv $1 with PYTHON, or make it anew when another Python made it (so it never runs on a
# Python that is gone or is not the one asked for). Further arguments go to `python -m venv`.
ensure_venv_python() {
  local venv="$1" made_by version="${PYTHON_IDENTITY%% *}"
  shift
  if [[ ! -e "$venv" ]]; then
    echo "Creating $venv with Python $version ($PYTHON_NAME)..." >&2
  else
    made_by="$(venv_made_by "$venv")"
    [[ "$made_by" == "$PYTHON_IDENTITY" ]] && return 0
    if [[ -n "$made_by" ]]; then
      made_by="Python ${made_by%% *} (${made_by#* })"
    else
      made_by="a Python that no longer runs"
    fi
    echo "Rebuilding $venv: it was made by $made_by, not by Python $version ($PYTHON_NAME)..." >&2
  fi
  "$PYTHON" -m venv --clear "$@" "$venv"
  echo "$PYTHON_IDENTITY" >"$venv/.python-identity"
}

ensure_venv() {
  local stamp=.venv/.pyproject.sha256 digest
  ensure_venv_python .venv
  digest="$(file_hash pyproject.toml)"
  stamp_matches "$stamp" "$digest" && return 0
  echo "Installing the project and its dependencies into .venv (pip install -e '.[dev,bench]'; about a minute on a fresh machine)..." >&2
  .venv/bin/python -m pip install --progress-bar on -e '.[dev,bench]' 2>&1 |
    { grep --line-buffered -v "$PIP_NOISE" || true; } >&2
  echo "$digest" >"$stamp"
}

ensure_node_modules() {
  # devstack/idp.py reads and writes the same stamp.
  local lock=local-idp/package-lock.json stamp=local-idp/node_modules/.devstack-lock.sha256
  local digest
  [[ -f "$lock" ]] || return 0
  digest="$(file_hash "$lock")"
  stamp_matches "$stamp" "$digest" && return 0
  echo "Installing local-idp dependencies (npm ci)..." >&2
  (cd local-idp && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$digest" >"$stamp"
}

check_python
ensure_venv
ensure_node_modules
