"""Assembling ``dist/Maple-<version>-win64.zip``: the steps in order, each in its own module.

1. the embeddable CPython, signature-checked (:mod:`scripts.bundle.embed`);
2. the launcher's Windows wheels into ``python/Lib/site-packages`` (:mod:`scripts.bundle.wheels`),
   with PySide6 cut to what the launcher loads (:mod:`scripts.bundle.trim`);
3. Maple's packages, assets, marker and metadata (:mod:`scripts.bundle.layout`);
4. ``Maple.exe`` and ``Maple-console.exe`` (:mod:`scripts.bundle.exe`);
5. the static import check of every binary (:mod:`scripts.bundle.pe_check`), then ``bundle.json``
   and the zip (:mod:`scripts.bundle.archive`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from installer.bundle import manifest
from scripts.bundle import archive, embed, exe, layout, pe_check, trim, wheels
from scripts.bundle.errors import BuildError

log = logging.getLogger(__name__)

CHECKOUT = Path(__file__).resolve().parents[2]
CACHE_ENV = "MAPLE_BUNDLE_CACHE"


def default_cache() -> Path:
    """Where downloads are kept between builds: ``MAPLE_BUNDLE_CACHE``, else the user's cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "maple" / "bundle"


@dataclass(frozen=True)
class Inputs:
    checkout: Path = CHECKOUT
    dist: Path = CHECKOUT / "dist"
    cache: Path = field(default_factory=default_cache)
    keep: Path | None = None  # also leave the unpacked bundle folder here
    level: int = 6  # zip compression level


@dataclass(frozen=True)
class Result:
    zip_path: Path
    folder_name: str
    manifest: manifest.Manifest
    removed_qt: tuple[str, ...]

    @property
    def zip_size(self) -> int:
        return self.zip_path.stat().st_size


def zip_name(version: str) -> str:
    return f"Maple-{version}-win64"


def _site_packages(inputs: Inputs, site: Path) -> tuple[str, ...]:
    pyproject = inputs.checkout / "pyproject.toml"
    requirements = wheels.launcher_requirements(pyproject)
    cached = wheels.install(requirements, inputs.checkout / "constraints.txt", inputs.cache)
    shutil.copytree(cached, site, dirs_exist_ok=True)
    sources = [p for name in layout.PACKAGES for p in (inputs.checkout / name).rglob("*.py")]
    modules = trim.used_qt_modules(sources)
    return tuple(trim.trim_pyside(site, modules)) if (site / "PySide6").is_dir() else ()


def _check_binaries(top: Path) -> None:
    problems = pe_check.check_bundle(top)
    if problems:
        raise BuildError("Some binaries would not load on Windows:\n" + "\n".join(map(str, problems)),
                         "Bundle the missing DLL, confirm it ships with Windows 10 1809+ "
                         "(scripts/bundle/pe_check.py), or leave out binaries for other processors.")


def assemble(inputs: Inputs, top: Path) -> tuple[manifest.Manifest, tuple[str, ...]]:
    """Fill ``top`` (the bundle folder) and write its manifest."""
    meta = layout.project(inputs.checkout / "pyproject.toml")
    python = embed.prepare(inputs.cache, top / "python")
    site = top / "python" / "Lib" / "site-packages"
    removed = _site_packages(inputs, site)
    layout.write_dist_info(site, meta)
    layout.copy_maple(inputs.checkout, top)
    layout.write_marker(top)
    with tempfile.TemporaryDirectory(prefix="maple-exe-") as work:
        exe.build_all(inputs.checkout / "assets" / "icons" / "maple.svg", meta["version"], Path(work), top)
    _check_binaries(top)
    sources = {f"{embed.PACKAGE}=={embed.PACKAGE_VERSION}": python.sdist_sha256}
    signed = {f"python/{name}": sig.signer for name, sig in python.signatures.items()}
    result = manifest.Manifest(meta["version"], python.version, manifest.scan(top), signed, sources)
    manifest.write(top, result)
    return result, removed


def build(inputs: Inputs) -> Result:
    """Build the zip into ``inputs.dist``; nothing is left there if a step fails."""
    meta = layout.project(inputs.checkout / "pyproject.toml")
    name = zip_name(meta["version"])
    inputs.dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="maple-bundle-", dir=inputs.dist) as tmp:
        top = Path(tmp) / name
        top.mkdir()
        result, removed = assemble(inputs, top)
        target = archive.write_zip(top, inputs.dist / f"{name}.zip", archive.build_time(inputs.checkout), inputs.level)
        if inputs.keep is not None:
            shutil.rmtree(inputs.keep / name, ignore_errors=True)
            inputs.keep.mkdir(parents=True, exist_ok=True)
            shutil.move(str(top), str(inputs.keep / name))
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return Result(target, name, result, removed)
