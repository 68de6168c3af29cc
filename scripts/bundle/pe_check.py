"""Which DLLs the bundle's Windows binaries import, and whether each can be found.

Every ``.exe``, ``.dll`` and ``.pyd`` in the bundle may import only DLLs that are in the bundle or
that every supported Windows (10 version 1809 and later, 11) has in System32. The Visual C++
runtime (vcruntime140, msvcp140, concrt140) is not part of Windows and must be in the bundle.
``api-ms-win-*`` and ``ext-ms-*`` names are API sets: Windows maps them to its own DLLs, and the
ones listed are present on 1809. A binary built for another CPU than x64 is refused too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pefile

PE_SUFFIXES = (".exe", ".dll", ".pyd")
AMD64 = 0x8664

# DLLs in System32 of every Windows 10 (1809+) and 11 x64 edition with a desktop. Checked names
# only: a new import fails the check until someone confirms it and adds it here.
WINDOWS_DLLS = frozenset({
    "advapi32.dll", "authz.dll", "bcrypt.dll", "bcryptprimitives.dll", "cfgmgr32.dll",
    "comctl32.dll", "comdlg32.dll", "crypt32.dll", "d2d1.dll", "d3d11.dll", "d3d12.dll",
    "d3d9.dll", "d3dcompiler_47.dll", "dbghelp.dll", "dnsapi.dll", "dwmapi.dll", "dwrite.dll",
    "dxgi.dll", "gdi32.dll", "icuin.dll", "icuuc.dll", "imagehlp.dll", "imm32.dll",
    "iphlpapi.dll", "kernel32.dll", "mpr.dll", "mscms.dll", "msvcrt.dll", "ncrypt.dll",
    "netapi32.dll", "ntdll.dll", "ole32.dll", "oleaut32.dll", "opengl32.dll", "pdh.dll",
    "powrprof.dll", "propsys.dll", "psapi.dll", "rpcrt4.dll", "secur32.dll", "setupapi.dll",
    "shcore.dll", "shell32.dll", "shlwapi.dll", "ucrtbase.dll", "uiautomationcore.dll",
    "user32.dll", "userenv.dll", "uxtheme.dll", "version.dll", "winhttp.dll", "wininet.dll",
    "winmm.dll", "winspool.drv", "wintrust.dll", "ws2_32.dll", "wtsapi32.dll",
})

# The Universal C Runtime's API sets, part of Windows 10 from its first release.
_UCRT = ("conio", "convert", "environment", "filesystem", "heap", "locale", "math", "multibyte",
         "private", "process", "runtime", "stdio", "string", "time", "utility")
API_SETS = frozenset({f"api-ms-win-crt-{part}-l1-1-0.dll" for part in _UCRT} | {
    "api-ms-win-core-path-l1-1-0.dll",
    "api-ms-win-core-synch-l1-2-0.dll",
    "api-ms-win-core-winrt-l1-1-0.dll",
    "api-ms-win-core-winrt-error-l1-1-0.dll",
    "api-ms-win-core-winrt-error-l1-1-1.dll",
    "api-ms-win-core-winrt-string-l1-1-0.dll",
    "api-ms-win-shcore-scaling-l1-1-1.dll",
})
API_SET_PREFIXES = ("api-ms-win-", "ext-ms-")


@dataclass(frozen=True)
class Problem:
    """One binary that would not load on a supported Windows, and why."""

    file: str  # relative to the bundle's root, with forward slashes
    dll: str  # the missing DLL, or "" for a problem with the file itself
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


def is_pe(path: Path) -> bool:
    return path.suffix.lower() in PE_SUFFIXES


def pe_imports(path: Path) -> tuple[int, tuple[str, ...]]:
    """The file's machine type and the DLLs it imports (plain and delay-loaded), lower case.

    The file is read into memory: pefile's ``close()`` of a mapped file runs a full garbage
    collection each time, which costs seconds over a bundle in a large process.
    """
    pe = pefile.PE(data=path.read_bytes(), fast_load=True)
    pe.parse_data_directories(import_dllnames_only=True, directories=[
        pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"],
        pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"],
    ])
    entries = [*getattr(pe, "DIRECTORY_ENTRY_IMPORT", []), *getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])]
    names = tuple(dict.fromkeys(e.dll.decode("ascii", "replace").lower() for e in entries))
    return int(pe.FILE_HEADER.Machine), names


def from_windows(dll: str) -> bool:
    """Whether every supported Windows provides ``dll`` (a System32 DLL or an API set)."""
    name = dll.lower()
    if name.startswith(API_SET_PREFIXES):
        return name in API_SETS
    return name in WINDOWS_DLLS


def binaries(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and is_pe(p))


def check_files(root: Path, files: Iterable[Path]) -> list[Problem]:
    """Problems of ``files`` (inside ``root``), with the bundle's own DLL names as the provided set."""
    files = list(files)
    provided = {p.name.lower() for p in root.rglob("*.dll")}
    problems: list[Problem] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            machine, imports = pe_imports(path)
        except pefile.PEFormatError as exc:
            problems.append(Problem(rel, "", f"not a Windows binary ({exc})"))
            continue
        if machine != AMD64:
            problems.append(Problem(rel, "", f"built for machine {machine:#x}, not x64"))
        for dll in imports:
            if dll not in provided and not from_windows(dll):
                where = "API set not known on Windows 10 1809" if dll.startswith(API_SET_PREFIXES) else "not in the bundle nor part of Windows"
                problems.append(Problem(rel, dll, f"imports {dll}: {where}"))
    return problems


def check_bundle(root: Path) -> list[Problem]:
    """Every PE file under ``root`` checked."""
    return check_files(root, binaries(root))
