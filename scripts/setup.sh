# Shared set-up for scripts/run and scripts/test, sourced by both (not run on its own):
# go to the repo root, then bring .venv and local-idp/node_modules up to date. Each is
# reinstalled only when its input changed, tracked by a stamp holding that input's hash.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# pip warns about configured package folders that this machine does not have; only those
# lines are dropped, everything else pip says (errors included) still shows.
PIP_NOISE="^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$"

file_hash() {
  sha256sum "$1" | cut -d' ' -f1
}

stamp_matches() {
  [[ -f "$1" && "$(<"$1")" == "$2" ]]
}

ensure_venv() {
  local stamp=.venv/.pyproject.sha256 digest
  if [[ ! -x .venv/bin/python ]]; then
    echo "Creating .venv..." >&2
    "${PYTHON:-python3}" -m venv .venv
  fi
  digest="$(file_hash pyproject.toml)"
  stamp_matches "$stamp" "$digest" && return 0
  echo "Installing the project into .venv (pip install -e '.[dev,bench]')..." >&2
  .venv/bin/python -m pip install -q -e '.[dev,bench]' 2>&1 | { grep -v "$PIP_NOISE" || true; } >&2
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

ensure_venv
ensure_node_modules
