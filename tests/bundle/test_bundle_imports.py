"""Every .exe, .dll and .pyd in the bundle imports only DLLs that are in it or in every Windows.

A missing Visual C++ runtime DLL is a top reason Windows bundles fail to start; the check must
name the file and the DLL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_no_binary_in_the_bundle_imports_a_missing_dll(bundle: Path) -> None:
    from scripts.bundle.pe_check import binaries, check_bundle

    assert len(binaries(bundle)) > 40
    assert [str(p) for p in check_bundle(bundle)] == []


def test_a_missing_vc_runtime_dll_is_named_with_the_files_that_need_it(bundle: Path, tmp_path: Path) -> None:
    from scripts.bundle.pe_check import check_bundle

    python = tmp_path / "bundle" / "python"
    shutil.copytree(bundle / "python", python, ignore=shutil.ignore_patterns("site-packages"))
    (python / "vcruntime140_1.dll").unlink()
    problems = check_bundle(tmp_path / "bundle")
    assert {p.dll for p in problems} == {"vcruntime140_1.dll"}
    assert "python/_wmi.pyd" in {p.file for p in problems}
    assert "python/_wmi.pyd: imports vcruntime140_1.dll: not in the bundle nor part of Windows" in map(str, problems)


def test_a_qt_dll_left_out_is_named(bundle: Path, tmp_path: Path) -> None:
    from scripts.bundle.pe_check import check_bundle

    site = bundle / "python" / "Lib" / "site-packages"
    copy = tmp_path / "bundle"
    shutil.copytree(bundle / "python", copy / "python", ignore=shutil.ignore_patterns("site-packages"))
    for package in ("PySide6", "shiboken6"):
        shutil.copytree(site / package, copy / "python" / "Lib" / "site-packages" / package)
    (copy / "python" / "Lib" / "site-packages" / "PySide6" / "Qt6Gui.dll").unlink()
    problems = {(p.file, p.dll) for p in check_bundle(copy)}
    assert ("python/Lib/site-packages/PySide6/Qt6Widgets.dll", "qt6gui.dll") in problems
    assert ("python/Lib/site-packages/PySide6/plugins/platforms/qwindows.dll", "qt6gui.dll") in problems


def test_a_32_bit_binary_is_refused(bundle: Path, tmp_path: Path) -> None:
    from scripts.bundle.pe_check import check_files

    exe = bundle / "Maple.exe"
    data = bytearray(exe.read_bytes())
    offset = int.from_bytes(data[0x3C:0x40], "little") + 4  # IMAGE_FILE_HEADER.Machine
    data[offset:offset + 2] = (0x14C).to_bytes(2, "little")  # i386
    fake = tmp_path / "Old.exe"
    fake.write_bytes(bytes(data))
    assert [p.reason for p in check_files(tmp_path, [fake])] == ["built for machine 0x14c, not x64"]
