"""The download manager seen from Qt: its updates (from its threads) arrive as GUI-thread signals."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from installer.home import Home
from installer.settings import Settings

log = logging.getLogger(__name__)


class DownloadsBridge(QObject):
    updated = Signal(str, object)  # job id, DownloadProgress
    added = Signal(str, str)  # job id, file name
    failed = Signal(str, str)  # job id (or ""), message

    def __init__(self, home: Home, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.home = home
        self.settings = settings
        self._manager: Any = None

    @property
    def manager(self) -> Any:
        if self._manager is None:
            from installer.downloads import DownloadManager

            self._manager = DownloadManager(settings=self.settings)
            self._manager.on_update = self._on_update
        return self._manager

    def _on_update(self, job_id: str, progress: Any) -> None:
        """Called from the manager's threads; the signal is queued to the GUI thread."""
        self.updated.emit(str(job_id), progress)
        if getattr(progress, "state", "") == "failed":
            self.failed.emit(str(job_id), self.error_of(str(job_id)))

    def error_of(self, job_id: str) -> str:
        for job in self.manager.jobs():
            if job.id == job_id and job.error is not None:
                hint = getattr(job.error, "hint", "")
                return f"{getattr(job.error, 'message', job.error)} {hint}".strip()
        return ""

    def add_spec(self, spec: Any) -> str:
        job_id = str(self.manager.add(spec))
        self.added.emit(job_id, spec.filename)
        return job_id

    def add_catalog(self, entry: Any) -> str:
        from installer.downloads import spec_from_catalog

        return self.add_spec(spec_from_catalog(entry, self.home, self.settings))

    def pause(self, job_id: str) -> None:
        self.manager.pause(job_id)

    def resume(self, job_id: str) -> None:
        self.manager.resume(job_id)

    def cancel(self, job_id: str) -> None:
        self.manager.cancel(job_id)

    def shutdown(self) -> None:
        if self._manager is not None:
            self._manager.shutdown(wait=False)
