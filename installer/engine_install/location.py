"""Where the engine's packages live, and putting them on ``sys.path`` before torch is imported.

``<program>/engine-packages`` (beside ``Maple.exe`` in the bundle, the checkout root otherwise) or
``MAPLE_ENGINE_PACKAGES``. Inside: ``packages/`` (the live, verified set, with its manifest),
``packages.staging/`` (an install in progress), ``packages.old/`` (the set being replaced, for the
moment of the swap), ``downloads/`` (wheels, kept so an install can resume) and a lock file.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.home import program_dir

log = logging.getLogger(__name__)

ENV_VAR = "MAPLE_ENGINE_PACKAGES"
FOLDER = "engine-packages"
MANIFEST = "maple-engine.json"


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def live(self) -> Path:
        return self.root / "packages"

    @property
    def staging(self) -> Path:
        return self.root / "packages.staging"

    @property
    def old(self) -> Path:
        return self.root / "packages.old"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    @property
    def lock(self) -> Path:
        return self.root / ".install.lock"

    @property
    def manifest(self) -> Path:
        return self.live / MANIFEST


def layout(root: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Layout:
    env = dict(os.environ) if env is None else env
    if root:
        return Layout(Path(root).absolute())
    if env.get(ENV_VAR):
        return Layout(Path(env[ENV_VAR]).absolute())
    return Layout(program_dir() / FOLDER)


def read_manifest(where: Layout) -> dict[str, Any] | None:
    """The live set's manifest (what was installed and verified), None when there is none."""
    try:
        data = json.loads(where.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def activate(where: Layout | None = None, path: list[str] | None = None) -> Path | None:
    """Put the live engine packages first on ``sys.path`` (the engine calls this before torch)."""
    where = where or layout()
    path = sys.path if path is None else path
    if read_manifest(where) is None:
        return None
    entry = str(where.live)
    if entry not in path:
        path.insert(0, entry)
        log.debug("engine packages from %s", entry)
    return where.live


def bundled(env: dict[str, str] | None = None) -> bool:
    """True in the Windows bundle (its ``bundle.json`` beside the program) or when
    ``MAPLE_ENGINE_PACKAGES`` names the folder: then only the installer's packages count."""
    env = dict(os.environ) if env is None else env
    return bool(env.get(ENV_VAR)) or (program_dir() / "bundle.json").is_file()


def engine_available(where: Layout | None = None) -> bool:
    """True when the engine can start: verified engine packages, or (in a checkout) torch and
    diffusers installed beside the launcher by the set-up. Nothing is imported."""
    import importlib.util

    if read_manifest(where or layout()) is not None:
        return True
    if bundled():
        return False
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "diffusers"))
