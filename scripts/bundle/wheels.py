"""The launcher's dependencies as Windows wheels, installed with pip into a folder.

``pip install --target`` with ``--platform win_amd64`` picks Windows wheels on any machine.
Only the launcher-only requirements (pyproject's ``dependencies``, not the ``engine`` extra) go
in, held to ``constraints.txt``. The result is cached by a hash of everything that decides it.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

from scripts.bundle.tools import pip, run

log = logging.getLogger(__name__)

PLATFORM = "win_amd64"
PYTHON = "3.13"
# Not launcher dependencies, but in the bundle: pip, which the engine installer
# (installer.engine_install) runs with the bundle's Python to resolve and unpack the engine.
BUNDLE_ONLY = ("pip==26.3",)
# pip writes launcher scripts for the machine it runs on (bin/): useless in a Windows bundle; and
# pip's own script stubs for 32-bit and ARM Windows are never used by an x64 Python.
NOT_BUNDLED = ("bin", *(f"pip/_vendor/distlib/{stub}.exe" for stub in ("t32", "w32", "t64-arm", "w64-arm")))


def launcher_requirements(pyproject: Path) -> list[str]:
    """The ``[project] dependencies`` of Maple's pyproject.toml, and :data:`BUNDLE_ONLY`."""
    import tomllib  # Python 3.11+: the build runs on Maple's .venv

    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [*data["project"]["dependencies"], *BUNDLE_ONLY]


def cache_key(requirements: Sequence[str], constraints: Path) -> str:
    text = "\n".join([PLATFORM, PYTHON, *sorted(requirements), constraints.read_text(encoding="utf-8")])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def install(requirements: Sequence[str], constraints: Path, cache: Path) -> Path:
    """A folder holding the Windows wheels of ``requirements``, installed once per cache key."""
    folder = cache / f"site-packages-{cache_key(requirements, constraints)}"
    if folder.is_dir():
        return folder
    scratch = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    log.info("installing %d Windows wheels with pip", len(requirements))
    run(pip("install", "--quiet", "--target", str(scratch), "--platform", PLATFORM,
            "--python-version", PYTHON, "--implementation", "cp", "--only-binary=:all:",
            "--no-compile", "-c", str(constraints), *requirements), "pip install (Windows wheels)")
    for name in NOT_BUNDLED:
        path = scratch / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for cache in list(scratch.rglob("__pycache__")):  # some wheels ship byte code for other Pythons
        shutil.rmtree(cache)
    scratch.rename(folder)
    return folder
