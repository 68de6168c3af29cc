"""A queue of downloads running a few at a time, each reporting progress and pausable/cancellable.

Pausing a running job stops its transfer and frees its slot (its bytes stay in the ``.part``);
resuming queues it again and it continues where it stopped. Cancelling stops it for good; the
``.part`` is kept (adding the same file again resumes) unless ``discard_part=True``.

``on_update(job_id, progress)`` is called from the download threads (about ten times a second per
job, and at every state change); a GUI must hand it over to its own thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from installer.downloads.errors import DownloadCancelled, DownloadError
from installer.downloads.progress import DownloadProgress
from installer.downloads.runner import fetch_file
from installer.downloads.spec import DownloadSpec
from installer.downloads.state import discard

log = logging.getLogger(__name__)

UpdateCallback = Callable[[str, DownloadProgress], None]
ACTIVE = ("queued", "connecting", "downloading", "retrying", "verifying")


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


class DownloadManager:
    def __init__(self, max_parallel: int = 2, settings: Any = None, **options: Any) -> None:
        self.max_parallel = max(1, min(max_parallel, 3))
        self.settings = settings
        self.options = options
        self.on_update: UpdateCallback | None = None
        self._jobs: dict[str, DownloadJob] = {}
        self._queue: list[str] = []
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._closed = False
        self._threads = [threading.Thread(target=self._worker, name=f"downloads-{n}", daemon=True) for n in range(self.max_parallel)]
        for thread in self._threads:
            thread.start()

    def add(self, spec: DownloadSpec) -> str:
        with self._cond:
            for job in self._jobs.values():
                if job.spec.target == spec.target and job.state in (*ACTIVE, "paused"):
                    return job.id
            job_id = f"dl{next(self._ids)}"
            self._jobs[job_id] = DownloadJob(job_id, spec, DownloadProgress(0, spec.size, 0.0, None, "queued", ""))
            self._queue.append(job_id)
            self._cond.notify()
        self._emit(job_id)
        return job_id

    def pause(self, job_id: str) -> None:
        self._stop(job_id, "paused")

    def cancel(self, job_id: str, discard_part: bool = False) -> None:
        self._stop(job_id, "cancelled")
        if discard_part:
            discard(self._jobs[job_id].spec.target)

    def resume(self, job_id: str) -> None:
        with self._cond:
            job = self._jobs[job_id]
            if job.state not in ("paused", "failed", "cancelled"):
                return
            job.stop = threading.Event()
            job.error = None
            job.progress = replace(job.progress, state="queued", speed_bps=0.0, eta_s=None)
            self._queue.append(job_id)
            self._cond.notify()
        self._emit(job_id)

    def jobs(self) -> list[DownloadJob]:
        with self._cond:
            return [replace(job) for job in self._jobs.values()]

    def shutdown(self, wait: bool = True) -> None:
        """Stop every job (their ``.part`` files stay for next time) and the worker threads."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            for job in self._jobs.values():
                if job.state in ACTIVE:
                    job.progress = replace(job.progress, state="paused", speed_bps=0.0, eta_s=None)
                job.stop.set()
            self._cond.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()

    def _stop(self, job_id: str, state: str) -> None:
        with self._cond:
            job = self._jobs[job_id]
            if job.state in ("done", "failed", "cancelled"):
                return
            job.progress = replace(job.progress, state=state, speed_bps=0.0, eta_s=None)
            if job_id in self._queue:
                self._queue.remove(job_id)
            job.stop.set()
        self._emit(job_id)

    def _emit(self, job_id: str) -> None:
        if self.on_update is not None:
            self.on_update(job_id, self._jobs[job_id].progress)

    def _next(self) -> DownloadJob | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            return None if self._closed else self._jobs[self._queue.pop(0)]

    def _worker(self) -> None:
        while (job := self._next()) is not None:
            self._run(job)

    def _progress(self, job: DownloadJob, stop: threading.Event) -> Callable[[DownloadProgress], None]:
        def report(p: DownloadProgress) -> None:
            if not stop.is_set():
                job.progress = p
                self._emit(job.id)

        return report

    def _run(self, job: DownloadJob) -> None:
        stop = job.stop
        try:
            outcome = fetch_file(job.spec, settings=self.settings, progress=self._progress(job, stop), cancel=stop, **self.options)
            job.path, job.sha256 = outcome.path, outcome.sha256
            job.progress = replace(job.progress, done=outcome.size, total=outcome.size, state="done", eta_s=0.0)
        except DownloadCancelled:
            pass  # paused or cancelled: _stop already set the state
        except DownloadError as exc:
            log.warning("Download %s failed: %s", job.spec.filename, exc)
            job.error = exc
            job.progress = replace(job.progress, state="failed", speed_bps=0.0, eta_s=None)
        except Exception as exc:  # the worker's edge: report, never die silently
            log.exception("Download %s crashed", job.spec.filename)
            job.error = DownloadError(f"The download of {job.spec.filename} stopped: {exc}")
            job.progress = replace(job.progress, state="failed")
        self._emit(job.id)
