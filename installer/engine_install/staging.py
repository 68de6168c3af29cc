"""The staging folder and the swap: the live engine packages change only after a verified install.

A killed install leaves ``packages.staging`` behind (removed, with a message, on the next try)
or, killed between the two renames of the swap, ``packages.old`` without ``packages`` (put back).
Windows refuses to rename a folder whose DLLs a running engine holds: the swap then fails with
the engine untouched.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path

from installer.engine_install.errors import EngineInstallError, InstallPathError
from installer.engine_install.location import Layout
from installer.engine_install.progress import human_size

log = logging.getLogger(__name__)

WINDOWS_MAX_PATH = 259  # characters of a full path without long-path support (MAX_PATH less the NUL)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def remove(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path, ignore_errors=False, onerror=_retry_readonly)


def _retry_readonly(func: object, path: str, _exc: object) -> None:
    """Windows leaves read-only files undeletable: clear the flag and try once more."""
    os.chmod(path, 0o700)
    func(path)  # type: ignore[operator]


def recover(where: Layout) -> list[str]:
    """Undo what a killed install left behind; returns sentences saying what was done."""
    said = []
    if where.old.exists() and not where.live.exists():
        os.replace(where.old, where.live)
        said.append(f"An engine update was interrupted while swapping folders; the previous engine in {where.live} was put back.")
    elif where.old.exists():
        remove(where.old)
    if where.staging.exists():
        size = folder_size(where.staging)
        remove(where.staging)
        said.append(f"A previous engine install was interrupted; its half-installed files ({human_size(size)}) "
                    f"were removed. The engine that was there before is unchanged.")
    for line in said:
        log.warning("%s", line)
    return said


def check_writable(where: Layout) -> None:
    try:
        where.root.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=where.root)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise
        raise InstallPathError(f"Maple cannot write to {where.root} ({exc.strerror or exc}): the folder is read-only "
                               "or protected (a zip still open, a CD, Program Files, a synced folder).") from exc


def check_lengths(target: Path, members: int, platform: str, long_paths: bool) -> None:
    """On Windows without long paths, refuse a target whose deepest file would pass 259 characters."""
    if platform != "win32" or long_paths:
        return
    longest = len(str(target)) + 1 + members
    if longest > WINDOWS_MAX_PATH:
        raise InstallPathError(
            f"The engine's deepest file would have a path of {longest} characters in {target}; Windows stops at "
            f"{WINDOWS_MAX_PATH} unless long paths are enabled.",
            "Enable long paths (the Troubleshooting page does it in one click), or move the Maple folder to a "
            "shorter path such as C:\\Maple. Files already downloaded are kept.")


def swap(where: Layout) -> None:
    """Make the staging folder the live one. The old set is removed only once the new one is in place."""
    if where.old.exists():
        remove(where.old)
    try:
        if where.live.exists():
            os.replace(where.live, where.old)
        os.replace(where.staging, where.live)
    except OSError as exc:
        if where.old.exists() and not where.live.exists():
            os.replace(where.old, where.live)
        raise EngineInstallError(f"The new engine could not be put in place ({exc.strerror or exc}).",
                                 "Stop the engine (and close anything using the Maple folder), then install again.") from exc
    try:
        remove(where.old)
    except OSError as exc:  # left for the next install to clean
        log.warning("old engine packages not removed yet: %s", exc)
