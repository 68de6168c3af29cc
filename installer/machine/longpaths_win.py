"""The real Windows layers for :mod:`installer.machine.longpaths`: ``winreg`` and a UAC-elevated process.

Imported only on Windows, when long paths are read or enabled for real.
"""

from __future__ import annotations

import ctypes
import importlib
import subprocess
from ctypes import wintypes
from typing import Any

SEE_MASK_NOCLOSEPROCESS = 0x00000040
SW_HIDE = 0
INFINITE = 0xFFFFFFFF
ERROR_CANCELLED = 1223  # the user answered "No" to the UAC prompt


class ShellExecuteInfo(ctypes.Structure):
    _fields_ = [
        ("cbSize", wintypes.DWORD),
        ("fMask", ctypes.c_ulong),
        ("hwnd", wintypes.HWND),
        ("lpVerb", wintypes.LPCWSTR),
        ("lpFile", wintypes.LPCWSTR),
        ("lpParameters", wintypes.LPCWSTR),
        ("lpDirectory", wintypes.LPCWSTR),
        ("nShow", ctypes.c_int),
        ("hInstApp", wintypes.HINSTANCE),
        ("lpIDList", ctypes.c_void_p),
        ("lpClass", wintypes.LPCWSTR),
        ("hkeyClass", wintypes.HKEY),
        ("dwHotKey", wintypes.DWORD),
        ("hIconOrMonitor", wintypes.HANDLE),
        ("hProcess", wintypes.HANDLE),
    ]


def _winreg() -> Any:
    return importlib.import_module("winreg")


def _dll(name: str) -> Any:
    return getattr(ctypes, "WinDLL")(name, use_last_error=True)  # noqa: B009 - absent off Windows


class WinRegistry:
    """HKEY_LOCAL_MACHINE through ``winreg``, in the 64-bit view even from a 32-bit Python."""

    def read_dword(self, key: str, name: str) -> int | None:
        winreg = _winreg()
        access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0, access) as handle:
                return int(winreg.QueryValueEx(handle, name)[0])
        except FileNotFoundError:
            return None

    def write_dword(self, key: str, name: str, value: int) -> None:
        winreg = _winreg()
        access = winreg.KEY_SET_VALUE | winreg.KEY_WOW64_64KEY
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0, access) as handle:
            winreg.SetValueEx(handle, name, 0, winreg.REG_DWORD, value)


class WinElevation:
    """Ask for administrator rights with the ``runas`` verb and wait for the helper to finish."""

    def is_admin(self) -> bool:
        try:
            return bool(_dll("shell32").IsUserAnAdmin())
        except OSError:
            return False

    def run_elevated(self, argv: tuple[str, ...]) -> int | None:
        info = ShellExecuteInfo()
        info.cbSize = ctypes.sizeof(info)
        info.fMask = SEE_MASK_NOCLOSEPROCESS
        info.lpVerb = "runas"
        info.lpFile = argv[0]
        info.lpParameters = subprocess.list2cmdline(argv[1:])
        info.nShow = SW_HIDE
        if not _dll("shell32").ShellExecuteExW(ctypes.byref(info)):
            error = getattr(ctypes, "get_last_error")()  # noqa: B009 - absent off Windows
            if error == ERROR_CANCELLED:
                return None
            raise OSError(error, f"ShellExecuteEx failed ({error})")
        return _wait(info.hProcess)


def _wait(process: Any) -> int:
    kernel32 = _dll("kernel32")
    try:
        kernel32.WaitForSingleObject(process, INFINITE)
        code = wintypes.DWORD()
        kernel32.GetExitCodeProcess(process, ctypes.byref(code))
        return int(code.value)
    finally:
        kernel32.CloseHandle(process)
