"""Writing the ``.part`` file: free-space checks and a full disk turned into DiskFullError."""

from __future__ import annotations

import errno
import logging
import shutil
from pathlib import Path
from typing import BinaryIO

from installer.errors import DiskFullError, DownloadError

log = logging.getLogger(__name__)

MARGIN = 64 * 1024 * 1024
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def check_free_space(folder: Path, needed: int) -> None:
    """Refuse to start when ``folder``'s drive cannot hold ``needed`` more bytes (plus a margin)."""
    free = shutil.disk_usage(folder).free
    if free < needed + MARGIN:
        raise DiskFullError(
            f"Not enough disk space in {folder}: the download needs {_gib(needed)} more and {_gib(free)} is free",
            "Free some disk space or choose another data home, then start the download again.",
        )


def _raw_write(fh: BinaryIO, data: memoryview) -> int:
    return fh.write(data) or 0


def write_all(fh: BinaryIO, data: bytes | bytearray | memoryview, part: Path) -> None:
    """Write every byte of ``data`` at the file's position; a full disk raises DiskFullError."""
    view = memoryview(data)
    try:
        while view:
            n = _raw_write(fh, view)
            view = view[n:]
    except OSError as exc:
        if exc.errno in _FULL or getattr(exc, "winerror", None) in (39, 112):
            raise DiskFullError(f"The disk filled up while downloading; the partial file was kept at {part}") from exc
        raise DownloadError(f"Cannot write {part}: {exc.strerror or exc}", "Check the disk and the folder's permissions, then resume.") from exc
