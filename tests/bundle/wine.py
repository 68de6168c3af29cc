"""The bundle's Windows programs under Wine 8, for the tests: one prefix per test session.

A session makes a fresh ``WINEPREFIX`` in a temporary folder, sets it up as a Windows 10 with
the registry keys every Windows has and Wine lacks, installs the test-only shims from
``wine_shims/`` (Windows APIs Wine 8 lacks; never part of the bundle) and keeps one wineserver
running, so each program starts in about a second. Output is read through pipes: Wine 8 cannot
hand a regular file to CPython as its stdout. A program's output is complete when it exits, even
if a Wine service it started still holds the pipes open.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

HERE = Path(__file__).resolve().parent
SHIMS = {  # DLL name -> (source, libraries): Windows APIs Wine 8 lacks
    "propsys.dll": ("propsys_shim.c", ("-loleaut32",)),
    "bcryptprimitives.dll": ("bcryptprimitives_shim.c", ("-lbcrypt",)),
}
# What a Windows 10 registry has and a new Wine prefix does not. LongPathsEnabled is 0, as on a
# Windows where nobody has turned long paths on yet.
REGISTRY = """Windows Registry Editor Version 5.00

[HKEY_CURRENT_USER\\Software\\Wine]
"Version"="win10"

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\FileSystem]
"LongPathsEnabled"=dword:00000000
"NtfsDisable8dot3NameCreation"=dword:00000002
"""
CC = "x86_64-w64-mingw32-gcc"


def wine_binary() -> str | None:
    return shutil.which("wine") or shutil.which("wine64")


def windows_path(path: PurePath) -> str:
    """The Windows name Wine gives a Linux path (drive Z: is /)."""
    return "Z:" + str(path).replace("/", "\\")


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def _drain(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """Read stdout and stderr until the process exits, then what is left in the pipes."""
    assert proc.stdout is not None and proc.stderr is not None
    chunks: dict[int, list[bytes]] = {proc.stdout.fileno(): [], proc.stderr.fileno(): []}
    selector = selectors.DefaultSelector()
    for stream in (proc.stdout, proc.stderr):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    quiet_since: float | None = None  # when the program had exited and the pipes went silent
    while selector.get_map():
        now = time.monotonic()
        if now > deadline:
            proc.kill()
            raise subprocess.TimeoutExpired(proc.args, timeout)
        if proc.poll() is not None:
            quiet_since = quiet_since or now
            if now - quiet_since > 2.0:
                break  # a Wine service keeps the pipes open; the program itself is done
        for key, _ in selector.select(timeout=0.1):
            data = os.read(key.fd, 1 << 16)
            quiet_since = None
            if data:
                chunks[key.fd].append(data)
            else:
                selector.unregister(key.fileobj)
    selector.close()
    proc.wait()
    return b"".join(chunks[proc.stdout.fileno()]), b"".join(chunks[proc.stderr.fileno()])


class WineSession:
    """A Wine prefix of its own, a running wineserver, and a way to run programs in it."""

    def __init__(self, prefix: Path, work: Path) -> None:
        self.prefix = prefix
        self.work = work
        self.wine = wine_binary() or "wine"
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "WINE", "DISPLAY", "WAYLAND")) and k not in ("VIRTUAL_ENV",)}
        env.update(WINEPREFIX=str(self.prefix), WINEDEBUG="-all", WINEDLLOVERRIDES="propsys=n;mscoree,mshtml=")
        return env

    def _quiet(self, argv: Sequence[str], timeout: float = 180) -> None:
        subprocess.run(list(argv), env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=timeout, check=False)

    def start(self) -> WineSession:
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.work.mkdir(parents=True, exist_ok=True)
        subprocess.Popen(["wineserver", "-p"], env=self.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait(timeout=30)
        self._quiet([self.wine, "wineboot", "-i"])
        reg = self.work / "windows10.reg"
        reg.write_text(REGISTRY.replace("\n", "\r\n"), encoding="utf-16")
        self._quiet([self.wine, "reg", "import", windows_path(reg)])
        self.install_shims()
        return self

    def install_shims(self) -> None:
        for dll, (source, libs) in SHIMS.items():
            subprocess.run([CC, "-shared", "-O2", "-o", str(self.work / dll), str(HERE / "wine_shims" / source),
                            *libs, "-Wl,--kill-at"], check=True, capture_output=True, timeout=120)
        self._place_shims()

    def _place_shims(self) -> None:
        """Copy the shims into system32 unless they are there: a prefix update rewrites Wine's own."""
        system32 = self.prefix / "drive_c" / "windows" / "system32"
        for dll in SHIMS:
            built, placed = self.work / dll, system32 / dll
            if not placed.is_file() or placed.read_bytes() != built.read_bytes():
                shutil.copyfile(built, placed)

    def run(self, argv: Sequence[str], cwd: Path, timeout: float = 240, env: Mapping[str, str] | None = None) -> Ran:
        """Run a Windows program (``argv[0]`` a Linux path or a name Wine knows) and wait for it."""
        self._place_shims()
        started = time.monotonic()
        proc = subprocess.Popen([self.wine, *argv], cwd=cwd, env={**self.env, **(env or {})},
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = _drain(proc, timeout)
        return Ran(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                   time.monotonic() - started)

    def flush_registry(self) -> None:
        """Stop the wineserver, which writes the registry files, then start a new one."""
        self._quiet(["wineserver", "-k"], timeout=60)
        self._quiet(["wineserver", "-w"], timeout=60)
        subprocess.Popen(["wineserver", "-p"], env=self.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait(timeout=30)

    def registry_text(self) -> str:
        return (self.prefix / "system.reg").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self._quiet(["wineserver", "-k"], timeout=60)
