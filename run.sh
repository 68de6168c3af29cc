#!/usr/bin/env bash
# One click: set up Maple (first time only) and start it. With a display this opens the launcher
# window; without one it runs the same one-click start in this terminal (machine check, then the
# engine with its console). Extra arguments go to `maple` (for example --home DIR).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
exec .venv/bin/maple "$@"
