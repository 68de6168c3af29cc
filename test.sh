#!/usr/bin/env bash
# Set up Maple with its test tools and run the test suite. Extra arguments go to pytest.
# Without test paths among them, the launcher's tests run in a pytest process of their own: the
# launcher never shares a process with torch and the engine's libraries, and its tests don't either.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/system-packages.sh
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
pytest=(.venv/bin/python -m pytest)
for arg in "$@"; do
  case "$arg" in
    tests|tests/*|*.py|*::*) exec "${pytest[@]}" "$@" ;;
  esac
done
status=0
"${pytest[@]}" "$@" --ignore=tests/launcher || status=$?
"${pytest[@]}" "$@" tests/launcher || status=$?
exit "$status"
