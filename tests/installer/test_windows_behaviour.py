"""What the Windows bundle relies on, run here through fakes of the Windows-only layers.

Each test fails without the behaviour: the desktop / Start-menu shortcut (read back from the
bytes), the %LOCALAPPDATA% data home, the engine tied to the launcher by a Job Object, and
Ctrl+Break stopping the engine cleanly.
"""

from __future__ import annotations

import os
import signal
import struct
import threading
from pathlib import Path, PureWindowsPath

import pytest

from engine.server import lifecycle
from engine.server.winjob import tie_to_parent
from installer import home as maple_home
from installer.shortcuts import LINK_CLSID, Shortcut, create_shortcuts, lnk_bytes

TARGET = r"C:\Users\李雷\Desktop\Maple 秋叶 v1\Maple.exe"


def read_lnk(data: bytes) -> dict[str, object]:
    """A reader for the parts of [MS-SHLLINK] Maple writes (written from the spec, apart from the writer)."""
    assert struct.unpack_from("<I", data, 0)[0] == 0x4C and data[4:20] == LINK_CLSID
    flags = struct.unpack_from("<I", data, 20)[0]
    pos, out = 0x4C, {"flags": flags, "show": struct.unpack_from("<I", data, 60)[0]}
    assert not flags & 0x1  # no ID list: the target comes from LinkInfo
    info_size, header_size, info_flags = struct.unpack_from("<III", data, pos)
    assert info_flags & 0x1 and header_size >= 0x24
    wide_at = struct.unpack_from("<I", data, pos + 28)[0]
    start = end = pos + wide_at
    while data[end:end + 2] != b"\0\0":  # UTF-16 characters, up to their NUL
        end += 2
    out["target"] = data[start:end].decode("utf-16-le")
    pos += info_size
    for flag, key in ((0x4, "description"), (0x8, "relative"), (0x10, "working_dir"), (0x20, "arguments"), (0x40, "icon")):
        if flags & flag:
            count = struct.unpack_from("<H", data, pos)[0]
            out[key] = data[pos + 2:pos + 2 + 2 * count].decode("utf-16-le")
            pos += 2 + 2 * count
    assert data[pos:pos + 4] == b"\0\0\0\0"  # the terminal block
    return out


def test_a_shortcut_reads_back_with_chinese_and_spaces() -> None:
    link = Shortcut(TARGET, "--home \"D:\\AI 绘画\\data\"", str(PureWindowsPath(TARGET).parent), "Maple", TARGET)
    back = read_lnk(lnk_bytes(link))
    assert back["target"] == TARGET and back["arguments"] == "--home \"D:\\AI 绘画\\data\""
    assert back["working_dir"] == r"C:\Users\李雷\Desktop\Maple 秋叶 v1" and back["icon"] == TARGET
    assert back["show"] == 1 and back["flags"] & 0x80  # a normal window, Unicode strings


def test_desktop_and_start_menu_shortcuts_go_to_the_shell_folders(tmp_path: Path) -> None:
    folders = {"desktop": tmp_path / "Desktop", "appdata": tmp_path / "AppData" / "Roaming"}
    written = create_shortcuts(PureWindowsPath(TARGET), folder=folders.__getitem__)
    assert written == [tmp_path / "Desktop" / "Maple.lnk",
                       folders["appdata"] / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Maple.lnk"]
    assert all(read_lnk(p.read_bytes())["target"] == TARGET for p in written)
    assert create_shortcuts(PureWindowsPath(TARGET), desktop=False, folder=folders.__getitem__) == written[1:]


def test_the_data_home_defaults_to_local_appdata_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs.windows

    known = {"CSIDL_LOCAL_APPDATA": r"C:\Users\李雷\AppData\Local", "CSIDL_APPDATA": r"C:\Users\李雷\AppData\Roaming"}
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", known.__getitem__)
    root = str(maple_home.default_root("win32"))
    assert root.startswith(known["CSIDL_LOCAL_APPDATA"]) and root.endswith("Maple")


class FakeJobs:
    def __init__(self, fail: str = "") -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail = fail

    def _do(self, name: str, value: int) -> None:
        self.calls.append((name, value))
        if name == self.fail:
            raise OSError(5, "Access is denied")

    def create_kill_on_close_job(self) -> int:
        self._do("create", 0)
        return 42

    def assign_self(self, job: int) -> None:
        self._do("assign", job)

    def give_to(self, parent_pid: int, job: int) -> int:
        self._do("give", parent_pid)
        return 7

    def close(self, handle: int) -> None:
        self.calls.append(("close", handle))


def test_the_engine_hands_its_kill_on_close_job_to_the_launcher() -> None:
    jobs = FakeJobs()
    assert tie_to_parent(1234, jobs, "win32")
    # the engine keeps no handle of its own: only the launcher's copy holds the job open
    assert jobs.calls == [("create", 0), ("assign", 42), ("give", 1234), ("close", 42)]


def test_a_job_that_cannot_be_made_leaves_the_parent_watch_and_no_handle() -> None:
    jobs = FakeJobs(fail="give")
    assert not tie_to_parent(1234, jobs, "win32")
    assert jobs.calls[-1] == ("close", 42)
    assert not tie_to_parent(1234, FakeJobs(), "linux") and not tie_to_parent(0, FakeJobs(), "win32")


def test_ctrl_break_asks_the_engine_to_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows delivers Ctrl+Break as SIGBREAK; here SIGUSR1 stands in for it."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)}
    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR1, raising=False)
    stop = threading.Event()
    try:
        lifecycle.install_signal_handlers(stop)
        os.kill(os.getpid(), signal.SIGUSR1)
        assert stop.wait(2)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
