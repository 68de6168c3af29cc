"""A Linux desktop without Qt's xcb libraries: named exactly, with the command that installs them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from launcher import qt_libs

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f)
\tlibxcb-icccm.so.4 => not found
"""


def test_missing_libraries_are_read_from_ldd_once_each():
    missing = qt_libs.missing_libraries(Path("libqxcb.so"), run=lambda _cmd: LDD_OUTPUT)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert qt_libs.install_command(missing) == "sudo apt-get install libxcb-icccm4 libxcb-keysyms1"


def test_a_library_without_a_known_package_is_still_named():
    command = qt_libs.install_command(["libxcb-icccm.so.4", "libfoo.so.9"])
    assert command == "sudo apt-get install libxcb-icccm4; and the packages that provide libfoo.so.9"


@pytest.mark.skipif(not (shutil.which("gcc") and shutil.which("ldd")), reason="needs gcc and ldd")
def test_a_real_library_whose_dependency_is_gone(tmp_path):
    """A real ELF file linked against a library that was then removed: ldd reports it, Maple names it."""
    (tmp_path / "dep.c").write_text("int f(void){return 1;}\n")
    (tmp_path / "plugin.c").write_text("int f(void); int g(void){return f();}\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", "libmaple-gone.so.1", "-Wl,-soname,libmaple-gone.so.1",
                    "dep.c"], cwd=tmp_path, check=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", "libplugin.so", "plugin.c", "-L.", "-l:libmaple-gone.so.1"],
                   cwd=tmp_path, check=True)
    (tmp_path / "libmaple-gone.so.1").unlink()
    env = {"DISPLAY": ":0"}
    assert qt_libs.window_blockers(env, "linux", plugin=tmp_path / "libplugin.so") == ["libmaple-gone.so.1"]


def test_ldd_that_cannot_run_blocks_nothing():
    def broken(_cmd: list[str]) -> str:
        raise FileNotFoundError("ldd")

    assert qt_libs.missing_libraries(Path("x.so"), run=broken) == []


@pytest.mark.parametrize(("env", "platform", "expected"), [
    ({"DISPLAY": ":0"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux", False),
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "win32", False),
])
def test_only_an_x11_start_is_checked(env, platform, expected):
    assert qt_libs.uses_xcb(env, platform) is expected


def test_the_window_is_not_checked_when_qt_runs_offscreen():
    def never(_cmd: list[str]) -> str:
        raise AssertionError("ldd must not run")

    assert qt_libs.window_blockers({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux", run=never) == []


def test_maple_starts_in_the_terminal_and_names_what_is_missing(monkeypatch, tmp_path, capsys):
    """With a display but without the xcb libraries, ``maple`` says so and runs the terminal start."""
    import launcher.__main__ as entry
    from launcher import headless

    started: list[str] = []
    monkeypatch.setattr(qt_libs, "window_blockers", lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    monkeypatch.setattr(entry, "has_display", lambda: True)
    monkeypatch.setattr(headless, "run", lambda home, lang: started.append(lang) or 0)
    assert entry.main(["--home", str(tmp_path), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert started == ["zh"]
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in out
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in out
    assert "改为在此终端中启动" in out
