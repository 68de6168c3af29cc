"""Progress reports: bytes done, speed and ETA, throttled so a GUI is not flooded."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from installer.downloads.lifecycle import DownloadState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownloadProgress:
    """One report: ``done``/``total`` bytes (total None if unknown), speed in bytes/s, ETA in s."""

    done: int
    total: int | None
    speed_bps: float
    eta_s: float | None
    state: DownloadState
    source: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", DownloadState(self.state))  # a plain "done" is taken too

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


ProgressCallback = Callable[[DownloadProgress], None]


class Meter:
    """Counts bytes from any thread and reports at most ``rate`` times a second (state changes always)."""

    WINDOW_S = 3.0

    def __init__(self, callback: ProgressCallback | None, rate: float = 10.0) -> None:
        self._callback = callback
        self._interval = 1.0 / rate
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, int]] = deque()
        self._last_report = 0.0
        self.done = 0
        self.total: int | None = None
        self.state = DownloadState.QUEUED
        self.source = ""

    def set(self, *, done: int | None = None, total: int | None = None, state: DownloadState | None = None,
            source: str | None = None) -> None:
        """Record new figures; a state change is reported at once (and must be an allowed move)."""
        with self._lock:
            new = self.state.then(state) if state is not None else self.state
            if done is not None:
                self.done = done
                self._samples.clear()
            if total is not None:
                self.total = total
            if source is not None:
                self.source = source
            changed, self.state = new is not self.state, new
        self._report(force=changed or done is not None)

    def add(self, n: int) -> None:
        with self._lock:
            self.done += n
        self._report(force=False)

    def speed(self) -> float:
        now = time.monotonic()
        with self._lock:
            self._samples.append((now, self.done))
            while len(self._samples) > 2 and now - self._samples[0][0] > self.WINDOW_S:
                self._samples.popleft()
            (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0

    def snapshot(self) -> DownloadProgress:
        speed = self.speed()
        eta = (self.total - self.done) / speed if self.total and speed > 0 else None
        return DownloadProgress(self.done, self.total, speed, eta, self.state, self.source)

    def _report(self, force: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if self._callback is None or (not force and now - self._last_report < self._interval):
                return
            self._last_report = now
        try:
            self._callback(self.snapshot())
        except Exception:  # a broken progress display must not break the download
            log.exception("The download progress callback failed")
