"""Downloading the plan's wheels with Maple's downloader: resumable, verified, through the proxy.

Wheels land in ``downloads/`` and stay there until the install succeeds, so a cancelled, failed or
killed install resumes: finished files are reused and a ``.part`` continues from its last byte.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import deque
from pathlib import Path

from installer.engine_install.errors import (
    IndexUnreachableError,
    InstallCancelled,
    InstallDiskFullError,
)
from installer.engine_install.plan import Plan, Wheel
from installer.engine_install.progress import InstallProgress, ProgressFn, human_size
from installer.errors import DiskFullError, DownloadError

MARGIN = 256 * 1024**2
UNPACK_FACTOR = 3  # installed size / wheel size, upper end (torch's wheels unpack to about 2.5x)


class Speed:
    """Bytes per second over the last few seconds."""

    WINDOW_S = 4.0

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> float:
        now = time.monotonic()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.WINDOW_S:
            self.samples.popleft()
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0


def already_there(plan: Plan, folder: Path) -> int:
    """Bytes of the plan's wheels already downloaded (finished files only)."""
    return sum(w.size or 0 for w in plan.wheels if _finished(w, folder))


def _finished(wheel: Wheel, folder: Path) -> bool:
    path = folder / wheel.filename
    return path.is_file() and (wheel.size is None or path.stat().st_size == wheel.size)


def check_space(plan: Plan, folder: Path, target_drive: Path) -> None:
    """Refuse to start when the drive cannot hold the rest of the download and the unpacked set."""
    need = plan.total_bytes - already_there(plan, folder) + UNPACK_FACTOR * plan.total_bytes + MARGIN
    free = shutil.disk_usage(target_drive).free
    if free < need:
        raise InstallDiskFullError(f"Not enough disk space for the engine in {target_drive}: it needs about "
                                   f"{human_size(need)} and {human_size(free)} is free.")


def download_all(plan: Plan, folder: Path, progress: ProgressFn, cancel: threading.Event | None,
                 proxy: str = "") -> list[Path]:
    """Every wheel of the plan as a local file, in plan order."""
    folder.mkdir(parents=True, exist_ok=True)
    speed, total, before = Speed(), plan.total_bytes, 0
    paths = []
    for wheel in plan.wheels:
        if cancel is not None and cancel.is_set():
            raise InstallCancelled("The engine install was cancelled.")
        paths.append(_one(wheel, folder, lambda d, b=before, w=wheel: _report(progress, speed, b + d, total, w), cancel, proxy))
        before += wheel.size or paths[-1].stat().st_size
    progress(InstallProgress("downloading", before, total or before, 0.0, 0.0, ""))
    return paths


def _report(progress: ProgressFn, speed: Speed, done: int, total: int, wheel: Wheel) -> None:
    rate = speed.add(done)
    eta = (total - done) / rate if rate > 0 and total else None
    progress(InstallProgress("downloading", done, total, rate, eta, wheel.filename))


def _one(wheel: Wheel, folder: Path, on_bytes: object, cancel: threading.Event | None, proxy: str) -> Path:
    local = wheel.local_path
    if local is not None:
        return local  # a folder index on this machine: nothing to fetch
    from installer.downloads import DownloadCancelled, DownloadSpec, fetch_file
    from installer.downloads.errors import SourceUnreachableError
    from installer.downloads.network import NetworkSettings

    spec = DownloadSpec([("index", wheel.url)], folder, wheel.filename, wheel.size, wheel.sha256, kind="engine")
    report = on_bytes  # called with the bytes of this file done so far
    try:
        outcome = fetch_file(spec, settings=NetworkSettings(proxy=proxy), cancel=cancel,
                             progress=lambda p: report(p.done))  # type: ignore[operator]
    except DownloadCancelled as exc:
        raise InstallCancelled("The engine install was cancelled; the files downloaded so far are kept.") from exc
    except DiskFullError as exc:
        raise InstallDiskFullError(f"The disk filled up while downloading {wheel.filename}.") from exc
    except SourceUnreachableError as exc:
        raise IndexUnreachableError(f"{wheel.filename} could not be downloaded: {exc.message}") from exc
    except DownloadError as exc:
        raise IndexUnreachableError(f"{wheel.filename} could not be downloaded: {exc.message}", exc.hint) from exc
    return outcome.path
