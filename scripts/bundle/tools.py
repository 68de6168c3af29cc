"""Running the build's external tools (pip, osslsigncode, MinGW-w64) with clear failures."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.bundle.errors import BuildError

log = logging.getLogger(__name__)

# The Debian packages that bring each tool (scripts/system-packages.sh installs them).
DEBIAN_PACKAGE = {
    "osslsigncode": "osslsigncode",
    "x86_64-w64-mingw32-gcc": "gcc-mingw-w64-x86-64-win32",
    "x86_64-w64-mingw32-windres": "binutils-mingw-w64-x86-64",
}


def require(tool: str) -> str:
    """The path of ``tool``, or a BuildError naming the package that brings it."""
    found = shutil.which(tool)
    if found is None:
        package = DEBIAN_PACKAGE.get(tool, tool)
        raise BuildError(f"{tool} is not installed", f"Install the Debian package {package} "
                         "(bash scripts/system-packages.sh does it), then build again.")
    return found


def run(argv: Sequence[str], what: str, cwd: Path | None = None) -> str:
    """Run ``argv``; its stdout, or a BuildError with the end of its output."""
    log.debug("running %s", " ".join(argv))
    done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise BuildError(f"{what} failed (exit {done.returncode}):\n" + "\n".join(tail))
    return done.stdout


def pip(*args: str) -> list[str]:
    """A pip command line for the Python running the build."""
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
