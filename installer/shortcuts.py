"""Windows shortcuts (.lnk) for the desktop and the Start menu, written without COM.

A shell link (Microsoft's [MS-SHLLINK] format) here holds a LinkInfo block with the target's
local path (in ANSI and, for paths with Chinese characters, in UTF-16) plus the working folder,
arguments, description and icon as Unicode strings; Windows resolves such a link from the path.
Where the desktop and the Start menu are comes from the shell's known folders (a protocol, so
tests use fixed folders).
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

LINK_CLSID = bytes.fromhex("0114020000000000c000000000000046")  # {00021401-0000-0000-C000-000000000046}
HAS_LINK_INFO, HAS_NAME, HAS_WORKING_DIR, HAS_ARGUMENTS, HAS_ICON, IS_UNICODE = 0x2, 0x4, 0x10, 0x20, 0x40, 0x80
FILE_ATTRIBUTE_NORMAL = 0x80
SW_SHOWNORMAL = 1
DRIVE_FIXED = 3
START_MENU_PROGRAMS = r"Microsoft\Windows\Start Menu\Programs"


@dataclass(frozen=True)
class Shortcut:
    target: str  # a Windows path, e.g. C:\Maple\Maple.exe
    arguments: str = ""
    working_dir: str = ""
    description: str = ""
    icon: str = ""
    icon_index: int = 0


def _unicode_string(text: str) -> bytes:
    data = text.encode("utf-16-le")
    return struct.pack("<H", len(data) // 2) + data


def _link_info(path: str) -> bytes:
    volume = struct.pack("<IIII", 17, DRIVE_FIXED, 0, 16) + b"\0"
    ansi = path.encode("mbcs" if sys.platform == "win32" else "ascii", errors="replace") + b"\0"
    wide = path.encode("utf-16-le") + b"\0\0"
    header = 0x24
    volume_at = header
    ansi_at = volume_at + len(volume)
    suffix_at = ansi_at + len(ansi)
    wide_at = suffix_at + 1
    wide_suffix_at = wide_at + len(wide)
    size = wide_suffix_at + 2
    head = struct.pack("<IIIIIIIII", size, header, 1, volume_at, ansi_at, 0, suffix_at, wide_at, wide_suffix_at)
    return head + volume + ansi + b"\0" + wide + b"\0\0"


def lnk_bytes(link: Shortcut) -> bytes:
    flags = HAS_LINK_INFO | IS_UNICODE
    strings = b""
    for flag, value in ((HAS_NAME, link.description), (HAS_WORKING_DIR, link.working_dir),
                        (HAS_ARGUMENTS, link.arguments), (HAS_ICON, link.icon)):
        if value:
            flags |= flag
            strings += _unicode_string(value)
    header = struct.pack("<I16sIIQQQIiIHHII", 0x4C, LINK_CLSID, flags, FILE_ATTRIBUTE_NORMAL, 0, 0, 0, 0,
                         link.icon_index, SW_SHOWNORMAL, 0, 0, 0, 0)
    return header + _link_info(link.target) + strings + b"\0\0\0\0"


def write_shortcut(path: Path, link: Shortcut) -> Path:
    """Write ``path`` (a ``.lnk``) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(lnk_bytes(link))
    tmp.replace(path)
    return path


def known_folder(name: str) -> Path:
    """The shell's Desktop or (roaming) AppData folder, through SHGetKnownFolderPath (Windows only)."""
    import ctypes
    import uuid

    ids = {"desktop": "B4BFCC3A-DB2C-424C-B029-7FE99A87C641", "appdata": "3EB685DB-65F9-4CF6-A03A-E3EF65729F3D"}
    guid = (ctypes.c_byte * 16).from_buffer_copy(uuid.UUID(ids[name]).bytes_le)
    out = ctypes.c_wchar_p()
    shell32 = getattr(ctypes, "windll").shell32  # noqa: B009 - absent off Windows
    if shell32.SHGetKnownFolderPath(ctypes.byref(guid), 0, None, ctypes.byref(out)) != 0:
        raise OSError(f"the {name} folder is unknown")
    try:
        return Path(str(out.value))
    finally:
        getattr(ctypes, "windll").ole32.CoTaskMemFree(out)  # noqa: B009


def create_shortcuts(exe: PureWindowsPath, desktop: bool = True, start_menu: bool = True,
                     folder: Callable[[str], Path] = known_folder) -> list[Path]:
    """Maple's shortcuts to ``exe`` (the bundle's Maple.exe), where asked; returns what was written."""
    link = Shortcut(str(exe), working_dir=str(exe.parent), description="Maple: Stable Diffusion launcher",
                    icon=str(exe), icon_index=0)
    written = []
    if desktop:
        written.append(write_shortcut(folder("desktop") / "Maple.lnk", link))
    if start_menu:
        written.append(write_shortcut(folder("appdata") / PureWindowsPath(START_MENU_PROGRAMS) / "Maple.lnk", link))
    return written
