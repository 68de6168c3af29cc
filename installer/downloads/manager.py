"""A queue of downloads running a few at a time, each reporting progress and pausable/cancellable.

Pausing a running job stops its transfer and frees its slot (its bytes stay in the ``.part``);
resuming queues it again and it continues where it stopped, even when pressed while the paused
transfer is still letting go of its file (the job then starts as soon as it has). Cancelling stops
it for good; the ``.part`` is kept (adding the same file again resumes) unless ``discard_part=True``.

Created with a data home, the manager keeps its unfinished jobs in ``cache/downloads.json``;
``restore()`` shows them again (paused) after a restart, ready to resume from their ``.part`` files.

``on_update(job_id, progress)`` is called from the download threads (about ten times a second per
job, and at every state change); a GUI must hand it over to its own thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from installer.downloads.errors import DownloadCancelled, DownloadError
from installer.downloads.http import RetryPolicy
from installer.downloads.job import ACTIVE, FINISHED, UNFINISHED, DownloadJob
from installer.downloads.lifecycle import DownloadState
from installer.downloads.network import NetworkLike, NetworkSettings, network_of
from installer.downloads.progress import DownloadProgress
from installer.downloads.queue_file import load_queue, queue_path, save_queue
from installer.downloads.runner import DEFAULT_CONNECTIONS, fetch_file
from installer.downloads.spec import DownloadSpec
from installer.downloads.state import discard, load_state
from installer.home import Home

log = logging.getLogger(__name__)

UpdateCallback = Callable[[str, DownloadProgress], None]


class DownloadManager:
    """``settings``: the user's settings or their network view; assigning new ones applies to the next transfers."""

    def __init__(self, max_parallel: int = 2, settings: NetworkLike = None, home: Home | None = None, *,
                 policy: RetryPolicy | None = None, connections: int = DEFAULT_CONNECTIONS) -> None:
        self.max_parallel = max(1, min(max_parallel, 3))
        self._network = network_of(settings)
        self.policy = policy
        self.connections = connections
        self.on_update: UpdateCallback | None = None
        self._jobs: dict[str, DownloadJob] = {}
        self._queue: list[str] = []
        self._running: set[str] = set()  # jobs whose transfer has not returned yet (it holds the file lock)
        self._cond = threading.Condition()
        self._queue_file = queue_path(home.cache_dir) if home is not None else None
        self._unrestored = load_queue(self._queue_file) if self._queue_file is not None else []
        self._save_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self._threads = [threading.Thread(target=self._worker, name=f"downloads-{n}", daemon=True) for n in range(self.max_parallel)]
        for thread in self._threads:
            thread.start()

    @property
    def settings(self) -> NetworkSettings:
        return self._network

    @settings.setter
    def settings(self, settings: NetworkLike) -> None:
        self._network = network_of(settings)

    def add(self, spec: DownloadSpec) -> str:
        with self._cond:
            for job in self._jobs.values():
                if job.spec.target == spec.target and job.state in (*ACTIVE, DownloadState.PAUSED):
                    return job.id
            job_id = f"dl{next(self._ids)}"
            self._jobs[job_id] = DownloadJob(job_id, spec, DownloadProgress(0, spec.size, 0.0, None, DownloadState.QUEUED, ""))
            self._queue.append(job_id)
            self._cond.notify_all()
        self._changed(job_id)
        return job_id

    def restore(self) -> list[str]:
        """Show again (paused) the jobs left unfinished by the last run; returns their ids."""
        with self._cond:
            saved, self._unrestored = self._unrestored, []
            known = {job.spec.target for job in self._jobs.values() if job.state in UNFINISHED}
            ids = [self._add_paused(spec) for spec in saved if spec.target not in known and not spec.target.exists()]
        for job_id in ids:
            self._emit(job_id)
        self._save()
        return ids

    def _add_paused(self, spec: DownloadSpec) -> str:
        state = load_state(spec.target)
        done = state.done_bytes() if state is not None else 0
        job_id = f"dl{next(self._ids)}"
        total = spec.size or (state.size if state else None)
        self._jobs[job_id] = DownloadJob(job_id, spec, DownloadProgress(done, total, 0.0, None, DownloadState.PAUSED, ""))
        return job_id

    def pause(self, job_id: str) -> None:
        self._stop(job_id, DownloadState.PAUSED)

    def cancel(self, job_id: str, discard_part: bool = False) -> None:
        self._stop(job_id, DownloadState.CANCELLED)
        if discard_part:
            discard(self._jobs[job_id].spec.target)

    def resume(self, job_id: str) -> None:
        with self._cond:
            job = self._jobs[job_id]
            if job.state not in (DownloadState.PAUSED, DownloadState.FAILED, DownloadState.CANCELLED):
                return
            job.stop = threading.Event()
            job.error = None
            job.move(DownloadState.QUEUED)
            self._queue.append(job_id)
            self._cond.notify_all()
        self._changed(job_id)

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
                    job.move(DownloadState.PAUSED)
                job.stop.set()
            self._cond.notify_all()
        self._save()
        if wait:
            for thread in self._threads:
                thread.join()

    def _stop(self, job_id: str, state: DownloadState) -> None:
        with self._cond:
            job = self._jobs[job_id]
            if job.state in FINISHED:
                return
            job.move(state)
            if job_id in self._queue:
                self._queue.remove(job_id)
            job.stop.set()
        self._changed(job_id)

    def _changed(self, job_id: str) -> None:
        """A state change: tell the listener and remember the queue."""
        self._emit(job_id)
        self._save()

    def _save(self) -> None:
        if self._queue_file is None:
            return
        with self._save_lock:  # snapshots written in the order they are taken
            with self._cond:
                specs = [job.spec for job in self._jobs.values() if job.state in UNFINISHED]
                targets = {spec.target for spec in specs}
                specs += [spec for spec in self._unrestored if spec.target not in targets]
            save_queue(self._queue_file, specs)

    def _emit(self, job_id: str) -> None:
        if self.on_update is not None:
            self.on_update(job_id, self._jobs[job_id].progress)

    def _ready(self) -> str | None:
        """The first queued job whose earlier transfer (paused a moment ago) has let go of its file."""
        return next((job_id for job_id in self._queue if job_id not in self._running), None)

    def _next(self) -> DownloadJob | None:
        with self._cond:
            while (job_id := self._ready()) is None and not self._closed:
                self._cond.wait()
            if self._closed or job_id is None:
                return None
            self._queue.remove(job_id)
            self._running.add(job_id)
            return self._jobs[job_id]

    def _worker(self) -> None:
        while (job := self._next()) is not None:
            try:
                self._run(job)
            finally:
                with self._cond:
                    self._running.discard(job.id)
                    self._cond.notify_all()
            self._save()

    def _progress(self, job: DownloadJob, stop: threading.Event) -> Callable[[DownloadProgress], None]:
        def report(p: DownloadProgress) -> None:
            with self._cond:  # a pause pressed meanwhile stands: no late report moves the job on
                if stop.is_set():
                    return
                job.report(p)
            self._emit(job.id)

        return report

    def _run(self, job: DownloadJob) -> None:
        stop = job.stop
        try:
            outcome = fetch_file(job.spec, settings=self._network, progress=self._progress(job, stop), cancel=stop,
                                 policy=self.policy, connections=self.connections)
        except DownloadCancelled:
            return  # paused or cancelled: _stop already set the state
        except DownloadError as exc:
            log.warning("Download %s failed: %s", job.spec.filename, exc)
            self._finish(job, stop, DownloadState.FAILED, error=exc)
        except Exception as exc:  # the worker's edge: report, never die silently
            log.exception("Download %s crashed", job.spec.filename)
            self._finish(job, stop, DownloadState.FAILED, error=DownloadError(f"The download of {job.spec.filename} stopped: {exc}"))
        else:
            job.path, job.sha256 = outcome.path, outcome.sha256
            self._finish(job, stop, DownloadState.DONE, done=outcome.size)

    def _finish(self, job: DownloadJob, stop: threading.Event, state: DownloadState, error: DownloadError | None = None,
                done: int | None = None) -> None:
        with self._cond:
            if stop is not job.stop or (stop.is_set() and state is not DownloadState.DONE):
                return  # paused, cancelled or resumed meanwhile: that state stands
            job.error = error
            job.move(state, done)
        self._emit(job.id)
