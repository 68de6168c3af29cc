"""One job of the download queue, as the launcher sees it; its state moves only as lifecycle allows."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from installer.downloads.errors import DownloadError
from installer.downloads.lifecycle import ACTIVE, FINISHED, UNFINISHED, DownloadState
from installer.downloads.progress import DownloadProgress
from installer.downloads.spec import DownloadSpec

__all__ = ["ACTIVE", "FINISHED", "UNFINISHED", "DownloadJob"]


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
    def state(self) -> DownloadState:
        return self.progress.state

    def report(self, progress: DownloadProgress) -> None:
        """Take a progress report; its state must be an allowed move from this one."""
        self.state.then(progress.state)
        self.progress = progress

    def move(self, state: DownloadState, done: int | None = None) -> None:
        """To ``state`` (an allowed move) with the speed zeroed; ``done``: the whole file, of that size, is there."""
        if done is None:
            self.report(replace(self.progress, state=state, speed_bps=0.0, eta_s=None))
        else:
            self.report(replace(self.progress, done=done, total=done, state=state, speed_bps=0.0, eta_s=0.0))
