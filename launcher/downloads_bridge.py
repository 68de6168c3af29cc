"""The download manager seen from Qt: its updates (from its threads) arrive as GUI-thread signals.

The bridge lives as long as the window (in the context), so downloads go on while pages are
rebuilt. At start ``restore`` brings back, paused, the downloads the last run left unfinished
(the manager keeps them in ``cache/downloads.json``); Resume continues them from their ``.part``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from installer.home import Home
from installer.settings import Settings
from launcher import workers

log = logging.getLogger(__name__)


class DownloadsBridge(QObject):
    updated = Signal(str, object)  # job id, DownloadProgress
    added = Signal(str, str)  # job id, file name
    failed = Signal(str, str)  # job id (or ""), message
    restored = Signal(int)  # how many unfinished downloads came back

    def __init__(self, home: Home, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.home = home
        self._settings = settings
        self._manager: Any = None
        self._lock = threading.Lock()  # the manager is made once, by whichever thread asks first
        self._closed = False

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self._settings = settings
        if self._manager is not None:
            self._manager.settings = settings  # sources, mirror, proxy and tokens of the next transfers

    @property
    def manager(self) -> Any:
        with self._lock:
            if self._manager is None:
                from installer.downloads import DownloadManager

                self._manager = DownloadManager(settings=self._settings, home=self.home)
                self._manager.on_update = self._on_update
                if self._closed:  # asked for after quit (a late worker): nothing may run
                    self._manager.shutdown(wait=False)
            return self._manager

    def restore(self) -> None:
        """In a worker (the downloader's imports take a moment): show last run's unfinished downloads."""
        workers.submit(lambda _p, _c: self._restore_now(), on_done=self._show_restored,
                       on_error=lambda exc: log.warning("downloads not restored: %s", exc), name="restore-downloads")

    def _restore_now(self) -> list[str]:
        if self._closed:
            return []
        return [str(job_id) for job_id in self.manager.restore()]

    def _show_restored(self, ids: list[str]) -> None:
        wanted = set(ids)
        for job_id, name, progress in self.current():
            if job_id in wanted:
                self.added.emit(job_id, name)
                self.updated.emit(job_id, progress)
        if ids:
            log.info("%d unfinished download(s) shown again, paused", len(ids))
        self.restored.emit(len(ids))

    def current(self) -> list[tuple[str, str, Any]]:
        """Every job the manager knows (id, file name, progress), for a panel built later."""
        if self._manager is None:
            return []
        return [(str(job.id), job.spec.filename, job.progress) for job in self._manager.jobs()]

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
        """At quit: stop the transfers; the queue file and the ``.part`` files stay for next time."""
        with self._lock:
            self._closed = True
            manager = self._manager
        if manager is not None:
            manager.shutdown(wait=False)
