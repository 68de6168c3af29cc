"""One job of the download queue, as the launcher sees it, and the states it goes through."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from installer.downloads.errors import DownloadError
from installer.downloads.progress import DownloadProgress
from installer.downloads.spec import DownloadSpec

ACTIVE = ("queued", "connecting", "downloading", "retrying", "verifying")
UNFINISHED = (*ACTIVE, "paused", "failed")  # what the queue file remembers across restarts


@dataclass
class DownloadJob:
    """A job as the launcher sees it (``jobs()`` returns copies)."""

    id: str
    spec: DownloadSpec
    progress: DownloadProgress
    error: DownloadError | None = None
    path: Path | None = None
    sha256: str | None = None
    stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def state(self) -> str:
        return self.progress.state
