"""``Maple.exe`` and ``Maple-console.exe``, compiled from ``maple_exe.c`` with MinGW-w64.

MinGW-w64 rather than NSIS: the launcher is a 150-line C program whose two builds differ only
in subsystem (GUI: no console window; console: for support, with the exit code passed back);
it imports nothing but kernel32, user32 and msvcrt, carries Maple's icon, version information
and a manifest (asInvoker, long-path aware), and is a plain PE that can be Authenticode-signed.
An NSIS stub would be an installer engine running a script, which virus scanners often flag,
and it has no console variant. The same compiler builds the test-only Wine shims.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from scripts.bundle.icon import write_ico
from scripts.bundle.tools import require, run

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "maple_exe.c"
MANIFEST = HERE / "maple_exe.manifest"
CC = "x86_64-w64-mingw32-gcc"
WINDRES = "x86_64-w64-mingw32-windres"
CFLAGS = ("-municode", "-Os", "-s", "-Wall", "-Wextra", "-static-libgcc", "-Wl,--no-insert-timestamp")


@dataclass(frozen=True)
class Variant:
    filename: str
    description: str
    console: bool


GUI = Variant("Maple.exe", "Maple", console=False)
CONSOLE = Variant("Maple-console.exe", "Maple (console, for support)", console=True)
VARIANTS = (GUI, CONSOLE)


def version_numbers(version: str) -> tuple[int, int, int, int]:
    """``"0.1.0"`` -> ``(0, 1, 0, 0)``; anything after the release numbers (``.dev1``, ``rc2``) is left out."""
    release = re.match(r"\d+(?:\.\d+)*", version)
    numbers = [int(n) for n in release.group(0).split(".")[:4]] if release else []
    padded = (numbers + [0, 0, 0, 0])[:4]
    return padded[0], padded[1], padded[2], padded[3]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '""') + '"'


def resource_script(variant: Variant, version: str) -> str:
    nums = ",".join(str(n) for n in version_numbers(version))
    strings = {
        "CompanyName": "Maple", "FileDescription": variant.description, "FileVersion": version,
        "InternalName": variant.filename.removesuffix(".exe"), "LegalCopyright": "MIT License",
        "OriginalFilename": variant.filename, "ProductName": "Maple", "ProductVersion": version,
    }
    values = "\n".join(f"      VALUE {_quoted(k)}, {_quoted(v)}" for k, v in strings.items())
    return f"""#include <winver.h>
1 ICON "maple.ico"
1 24 "maple_exe.manifest"
VS_VERSION_INFO VERSIONINFO
 FILEVERSION {nums}
 PRODUCTVERSION {nums}
 FILEOS VOS_NT_WINDOWS32
 FILETYPE VFT_APP
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904b0"
    BEGIN
{values}
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"""


def build_exe(variant: Variant, version: str, work: Path, dest: Path) -> Path:
    """Compile one variant into ``dest``; ``work`` holds the icon, manifest and objects."""
    cc, windres = require(CC), require(WINDRES)
    stem = variant.filename.removesuffix(".exe")
    rc = work / f"{stem}.rc"
    rc.write_text(resource_script(variant, version), encoding="utf-8")
    res = work / f"{stem}.res.o"
    run([windres, "--input-format=rc", "-O", "coff", "-i", rc.name, "-o", res.name], f"windres {rc.name}", cwd=work)
    subsystem = ["-mconsole", "-DMAPLE_CONSOLE"] if variant.console else ["-mwindows"]
    out = dest / variant.filename
    run([cc, *CFLAGS, *subsystem, "-o", str(out), str(SOURCE), str(res), "-luser32"], f"compiling {variant.filename}")
    return out


def build_all(svg: Path, version: str, work: Path, dest: Path) -> list[Path]:
    """Both launchers, with Maple's icon drawn from ``svg``."""
    work.mkdir(parents=True, exist_ok=True)
    write_ico(svg, work / "maple.ico")
    shutil.copyfile(MANIFEST, work / "maple_exe.manifest")
    return [build_exe(variant, version, work, dest) for variant in VARIANTS]
