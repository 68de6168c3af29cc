"""Leave out the parts of PySide6 the launcher never loads (Qt Quick, QML, WebEngine data, tools).

The Qt modules kept are the ones Maple's code imports (``PySide6.QtXxx`` found in its sources)
plus the plugins a widgets application on Windows loads; every other DLL of PySide6 and
shiboken6 stays only if a kept binary imports it, directly or through another. The bundle's
static import check (:mod:`scripts.bundle.pe_check`) then proves nothing needed went missing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from scripts.bundle.pe_check import is_pe, pe_imports

QT_PACKAGES = ("PySide6", "shiboken6")
# Folders of PySide6 with nothing a widgets application loads at run time.
DROP_DIRS = ("doc", "glue", "include", "lib", "metatypes", "qml", "resources", "scripts",
             "translations", "typesystems")
DROP_SUFFIXES = (".pyi", ".lib", ".exe")
# Plugins (under PySide6/plugins) a widgets application on Windows uses.
KEEP_PLUGINS = frozenset({
    "platforms/qwindows.dll", "platforms/qminimal.dll", "platforms/qoffscreen.dll",
    "styles/qmodernwindowsstyle.dll",
    "imageformats/qsvg.dll", "imageformats/qico.dll", "imageformats/qjpeg.dll", "imageformats/qgif.dll",
    "iconengines/qsvgicon.dll",
    "tls/qschannelbackend.dll", "tls/qcertonlybackend.dll",
    "networkinformation/qnetworklistmanager.dll",
})
_QT_IMPORT = re.compile(r"\bPySide6\.(Qt\w+)")


def used_qt_modules(sources: Iterable[Path]) -> set[str]:
    """The ``PySide6.QtXxx`` modules named in Maple's ``.py`` files."""
    found: set[str] = set()
    for path in sources:
        found.update(_QT_IMPORT.findall(path.read_text(encoding="utf-8", errors="replace")))
    return found


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _drop_unused_files(site: Path) -> None:
    pyside = site / "PySide6"
    for name in DROP_DIRS:
        _remove(pyside / name)
    for package in QT_PACKAGES:
        for path in list((site / package).rglob("*")):
            if path.is_file() and path.suffix.lower() in DROP_SUFFIXES:
                path.unlink()
    _remove(site / "shiboken6" / "include")
    plugins = pyside / "plugins"
    for path in list(plugins.rglob("*.dll")):
        if path.relative_to(plugins).as_posix() not in KEEP_PLUGINS:
            path.unlink()
    for folder in sorted(plugins.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _roots(site: Path, modules: set[str]) -> list[Path]:
    pyside = site / "PySide6"
    roots = [pyside / f"{name}.pyd" for name in sorted(modules)]
    missing = [r.name for r in roots if not r.is_file()]
    if missing:
        raise FileNotFoundError(f"PySide6 has no {', '.join(missing)}")
    roots += [p for p in (pyside / "plugins").rglob("*.dll")]
    roots += list((site / "shiboken6").glob("*.pyd"))
    return roots


def _needed(roots: list[Path], by_name: dict[str, Path]) -> set[Path]:
    """``roots`` and every Qt-package DLL they import, transitively."""
    needed: set[Path] = set()
    todo = list(roots)
    while todo:
        path = todo.pop()
        if path in needed:
            continue
        needed.add(path)
        todo += [by_name[dll] for dll in pe_imports(path)[1] if dll in by_name]
    return needed


def trim_pyside(site: Path, modules: set[str]) -> list[str]:
    """Remove from ``site`` what the ``modules`` never load; the binaries removed, by name."""
    _drop_unused_files(site)
    binaries = [p for package in QT_PACKAGES for p in (site / package).rglob("*") if p.is_file() and is_pe(p)]
    by_name = {p.name.lower(): p for p in binaries}
    needed = _needed(_roots(site, modules), by_name)
    removed = []
    for path in binaries:
        if path not in needed:
            removed.append(path.relative_to(site).as_posix())
            path.unlink()
    return sorted(removed)
