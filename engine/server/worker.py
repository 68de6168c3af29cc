"""The one worker thread that touches the model: a FIFO queue of jobs, each answered by a Future.

HTTP handlers never call the model; they ``submit`` a job and await its future. Jobs run one at a
time in arrival order, none is dropped. Every exception is caught here, at the edge: Maple's errors
pass through (each carries its status), CUDA out-of-memory becomes ``OutOfMemoryError`` after the
memory is freed, anything else becomes an ``InternalError``, and the worker goes on with the next job.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from engine.errors import OutOfMemoryError, ShuttingDownError
from engine.models.device import free_memory
from engine.server.incidents import internal_error
from engine.server.progress import JobProgress, Progress
from installer.errors import MapleError

log = logging.getLogger(__name__)

JobFn = Callable[[JobProgress], Any]


@dataclass
class Job:
    name: str
    fn: JobFn
    job_count: int = 1
    future: Future[Any] = field(default_factory=Future)
    id: int = 0


def is_oom(exc: BaseException) -> bool:
    """True for CUDA/MPS out-of-memory errors, recognised without importing torch."""
    torch = sys.modules.get("torch")
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None) if torch else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    return isinstance(exc, RuntimeError | MemoryError) and "out of memory" in str(exc).lower()


def translate(exc: BaseException, where: str = "a job") -> MapleError:
    """What a failed job answers: Maple's own error as it is, out-of-memory (memory freed), or internal."""
    if isinstance(exc, MapleError):
        return exc
    if is_oom(exc):
        free_memory()
        return OutOfMemoryError(f"Out of memory: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    return internal_error(exc, where)


class Worker:
    """Runs submitted jobs in one background thread."""

    def __init__(self, progress: Progress, name: str = "maple-worker") -> None:
        self.progress = progress
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._stopping = threading.Event()
        self._pending = 0
        self._lock = threading.Lock()
        self._running: Future[Any] | None = None

    def start(self) -> None:
        self._thread.start()

    @property
    def pending(self) -> int:
        """Jobs waiting or running."""
        with self._lock:
            return self._pending

    def submit(self, name: str, fn: JobFn, job_count: int = 1) -> Future[Any]:
        job = Job(name, fn, job_count, id=next(self._ids))
        if self._stopping.is_set():
            job.future.set_exception(ShuttingDownError("The engine is shutting down"))
            return job.future
        with self._lock:
            self._pending += 1
        self._queue.put(job)
        self.progress.set_queued(self.pending)
        return job.future

    def interrupt(self) -> bool:
        return self.progress.request_interrupt()

    def skip(self) -> bool:
        return self.progress.request_skip()

    def abandon(self, future: Future[Any]) -> str:
        """Nobody waits for ``future`` any more: cancel its job if queued, interrupt it if running."""
        if future.cancel():
            return "cancelled"
        with self._lock:
            if self._running is future and self.progress.request_interrupt():
                return "interrupted"
        return "finished"

    def stop(self, timeout: float = 3.0) -> bool:
        """Interrupt the running job, fail the queued ones, and wait for the thread; True if it ended."""
        self._stopping.set()
        self.interrupt()
        self._drain()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _drain(self) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                self._finish(job, error=ShuttingDownError("The engine is shutting down"))

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._stopping.is_set():
                self._finish(job, error=ShuttingDownError("The engine is shutting down"))
                continue
            self._execute(job)

    def _execute(self, job: Job) -> None:
        with self._lock:
            self._running = job.future  # before begin(): abandon() then cancels or interrupts, never misses
        self.progress.begin(job.name, job.job_count, self.pending)
        if not job.future.set_running_or_notify_cancel():
            self._finish(job)
            return
        try:
            result = job.fn(JobProgress(self.progress))
        except BaseException as exc:  # the worker's edge: nothing may kill the thread
            error = translate(exc, job.name)  # an unexpected one is logged there, with its traceback
            log.log(logging.WARNING if error.status < 500 else logging.ERROR, "%s failed: %s", job.name, error)
            self._finish(job, error=error)
            return
        self._finish(job, result=result)

    def _finish(self, job: Job, result: Any = None, error: BaseException | None = None) -> None:
        with self._lock:
            self._pending -= 1
            self._running = None
        self.progress.end(self.pending)
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)
