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
  # torch and torchvision are pinned for reproducible tests and always come as a pair from one
  # index: torchvision's compiled operators only load next to the torch build they were made for
  # (the upscalers' library imports torchvision). On Linux the default package index serves the
  # CUDA build of both (it runs on the CPU too, but is several GB); "===" asks for exactly that
  # build, not a local "+cpu" wheel that has no torchvision beside it. MAPLE_TORCH_INDEX_URL picks
  # another index for both, for example PyTorch's CPU-only or CUDA-specific one.
  torch_version=${MAPLE_TORCH_VERSION:-2.13.0}
  torchvision_version=${MAPLE_TORCHVISION_VERSION:-0.28.0}
  if [ -z "${MAPLE_TORCH_INDEX_URL:-}" ]; then
    # The engine installer's decision table (installer/engine_install) names PyTorch's CUDA index
    # that fits the NVIDIA card and driver, and nothing (the default index, as before) without one.
    "${pip[@]}" install --quiet -c constraints.txt nvidia-ml-py
    MAPLE_TORCH_INDEX_URL=$(.venv/bin/python -m installer.engine_install --print-index)
    if [ -n "$MAPLE_TORCH_INDEX_URL" ]; then
      echo "[maple] NVIDIA GPU found: torch and torchvision from $MAPLE_TORCH_INDEX_URL"
    fi
  fi
  if [ -n "${MAPLE_TORCH_INDEX_URL:-}" ]; then
    "${pip[@]}" install --quiet --index-url "$MAPLE_TORCH_INDEX_URL" \
      "torch==$torch_version" "torchvision==$torchvision_version"
  else
    "${pip[@]}" install --quiet "torch===$torch_version" "torchvision==$torchvision_version"
  fi
  if ! .venv/bin/python -c "import torchvision" >/dev/null 2>&1; then
    echo "[maple] torchvision $torchvision_version does not load next to torch $torch_version:" \
         "install both from the same package index (see MAPLE_TORCH_INDEX_URL)." >&2
    exit 1
  fi
  # setuptools warns about every editable install (a banner of "!!"; its "strict" and "compat" modes
  # print one too). The default mode is the one Maple wants (imports from this checkout), so that
  # one warning is left out; pip's own errors still show.
  PYTHONWARNINGS="ignore:Editable installation" "${pip[@]}" install --quiet -c constraints.txt -e ".[engine,dev]"
  # A PyPA package is also called "installer"; Maple's own package must be the one imported.
  "${pip[@]}" uninstall --quiet -y installer >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
fi
