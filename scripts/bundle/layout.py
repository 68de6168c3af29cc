"""Maple's own files in the bundle: its three packages, assets, the portable marker, its metadata.

Maple's packages sit at the bundle's root beside ``Maple.exe``, as in a checkout, so
``installer.home.program_dir()`` is that folder: the ``maple-portable`` marker there puts the data
home in ``data\\``. A ``maple_launcher-<version>.dist-info`` in site-packages lets
``importlib.metadata`` report Maple's version as it does for an installed Maple.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from installer.home import PORTABLE_MARKER

PACKAGES = ("launcher", "engine", "installer")
DATA = ("assets",)
# Files of the checkout's root that the bundle carries: the engine installer reads constraints.txt
# beside the program (installer.engine_install.requirements).
ROOT_FILES = {"constraints.txt": "constraints.txt", "LICENSE": "LICENSE.txt"}
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".ruff_cache")
MARKER_TEXT = (
    "This file keeps Maple's data (models, outputs, settings) in the data folder beside Maple.exe.\r\n"
    "Delete it to keep the data in your user folder (%LOCALAPPDATA%\\Maple) instead.\r\n"
    "此文件让 Maple 把数据（模型、输出、设置）放在 Maple.exe 旁的 data 文件夹里。\r\n"
)


def project(pyproject: Path) -> dict[str, str]:
    """Name, version, summary and required Python from pyproject.toml."""
    import tomllib  # Python 3.11+: the build runs on Maple's .venv

    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {"name": data["name"], "version": data["version"], "summary": data.get("description", ""),
            "requires_python": data.get("requires-python", "")}


def copy_maple(checkout: Path, top: Path) -> None:
    for name in (*PACKAGES, *DATA):
        shutil.copytree(checkout / name, top / name, ignore=SKIP)
    for source, target in ROOT_FILES.items():
        shutil.copyfile(checkout / source, top / target)


def write_marker(top: Path) -> Path:
    marker = top / PORTABLE_MARKER
    marker.write_bytes(MARKER_TEXT.encode("utf-8"))
    return marker


def write_dist_info(site: Path, meta: dict[str, str]) -> Path:
    """A minimal ``.dist-info`` so ``importlib.metadata.version("maple-launcher")`` works."""
    folder = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    folder.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {meta['name']}", f"Version: {meta['version']}"]
    if meta["summary"]:
        lines.append(f"Summary: {meta['summary']}")
    if meta["requires_python"]:
        lines.append(f"Requires-Python: {meta['requires_python']}")
    (folder / "METADATA").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "INSTALLER").write_text("maple-bundle\n", encoding="utf-8")
    (folder / "top_level.txt").write_text("\n".join(PACKAGES) + "\n", encoding="utf-8")
    record = [f"{folder.name}/{name},," for name in ("METADATA", "INSTALLER", "top_level.txt", "RECORD")]
    (folder / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")
    return folder
