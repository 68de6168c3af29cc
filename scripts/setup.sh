#!/usr/bin/env bash
# Sets up Maple in .venv inside the checkout. Safe to run again: it only reinstalls when
# pyproject.toml or constraints.txt changed since the last successful set-up.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for py in "${PYTHON:-}" python3.11 python3.12 python3.10 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] < (3, 14) else 1)' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "Maple needs Python 3.10 to 3.13 (python3.11 recommended); none was found." >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "[maple] creating .venv with $py"
  "$py" -m venv .venv
fi

stamp=.venv/.maple-setup
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-64)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "[maple] installing Maple and its engine into .venv (first run takes a few minutes)"
  pip=(.venv/bin/python -m pip --disable-pip-version-check)
  "${pip[@]}" install --quiet --upgrade pip
  # torch is pinned for reproducible tests. On Linux the default package index serves the CUDA
  # build of this version (it runs on the CPU too, but is several GB). MAPLE_TORCH_INDEX_URL picks
  # another index, for example PyTorch's CPU-only or CUDA-specific one.
  torch_index=()
  [ -n "${MAPLE_TORCH_INDEX_URL:-}" ] && torch_index=(--index-url "$MAPLE_TORCH_INDEX_URL")
  "${pip[@]}" install --quiet "${torch_index[@]}" "torch==${MAPLE_TORCH_VERSION:-2.13.0}"
  "${pip[@]}" install --quiet -c constraints.txt -e ".[engine,dev]"
  # A PyPA package is also called "installer"; Maple's own package must be the one imported.
  "${pip[@]}" uninstall --quiet -y installer >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
fi
