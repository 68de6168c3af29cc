"""Long work off the GUI thread.

Work functions are plain Python: ``fn(progress, cancel) -> result`` where ``progress(value)`` may be
called as often as the work likes and ``cancel`` is a ``threading.Event`` to honour. :func:`submit`
runs one in Qt's thread pool and hands progress (throttled to about 10 per second), the result or
the error back to the GUI thread as Qt signals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

Progress = Callable[[Any], None]
WorkFn = Callable[[Progress, threading.Event], Any]

PROGRESS_INTERVAL = 0.1  # seconds between progress signals: about 10 per second


class Task(QObject):
    """One piece of background work, as seen from the GUI thread."""

    progress = Signal(object)
    done = Signal(object)
    failed = Signal(object)  # the exception
    finished = Signal()  # after done or failed

    def __init__(self, fn: WorkFn, name: str = "") -> None:
        super().__init__()
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "task")
        self.cancel_event = threading.Event()
        self._last_emit = 0.0
        self._pending: Any = None
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def _report(self, value: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_emit < PROGRESS_INTERVAL:
                self._pending = value
                return
            self._last_emit = now
            self._pending = None
        self.progress.emit(value)

    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            self.progress.emit(pending)

    def run(self) -> None:
        """Run in the calling thread (the pool calls this)."""
        try:
            result = self.fn(self._report, self.cancel_event)
        except Exception as exc:  # the worker's edge: every error goes to the GUI
            log.exception("background task %s failed", self.name)
            self._deliver(self.failed, exc)
        else:
            self._deliver(self.done, result)

    def _deliver(self, signal: Any, value: Any) -> None:
        try:
            self._flush()
            signal.emit(value)
            self.finished.emit()
        except RuntimeError:  # the application is gone (quit while this ran): nobody to tell
            log.debug("task %s finished after its receiver was deleted", self.name)


class _Runnable(QRunnable):
    def __init__(self, task: Task) -> None:
        super().__init__()
        self.task = task

    def run(self) -> None:
        self.task.run()


_running: set[Task] = set()


def submit(
    fn: WorkFn,
    *,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    name: str = "",
    pool: QThreadPool | None = None,
) -> Task:
    """Start ``fn`` in the thread pool; the callbacks run in the GUI thread."""
    task = Task(fn, name)
    if on_done is not None:
        task.done.connect(on_done)
    if on_error is not None:
        task.failed.connect(on_error)
    if on_progress is not None:
        task.progress.connect(on_progress)
    _running.add(task)
    task.finished.connect(lambda: _running.discard(task))
    runnable = _Runnable(task)
    runnable.setAutoDelete(True)
    (pool or QThreadPool.globalInstance()).start(runnable)
    return task


def cancel_all() -> None:
    for task in list(_running):
        task.cancel()


def wait_all(timeout_ms: int = 3000) -> bool:
    """Cancel and wait for running work (at quit)."""
    cancel_all()
    return QThreadPool.globalInstance().waitForDone(timeout_ms)
