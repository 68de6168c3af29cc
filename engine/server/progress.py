"""What ``/sdapi/v1/progress`` reports: the running job's step, total, ETA, flags and live preview.

The worker thread writes here through ``JobProgress`` (the ``JobControl`` that generation calls);
HTTP handlers read a consistent snapshot under the lock. The preview is decoded from the latents in
the worker at most a few times a second, with the cheap latent-to-RGB approximation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

PREVIEW_EVERY_S = 0.25
PreviewFn = Callable[[Any], Any]  # latents -> PIL image (or None)


@dataclass
class Snapshot:
    job: str = ""
    job_timestamp: str = "0"
    job_count: int = 0
    job_no: int = 0
    sampling_step: int = 0
    sampling_steps: int = 0
    interrupted: bool = False
    skipped: bool = False
    started: float = 0.0
    queued: int = 0
    preview: Any = None
    preview_id: int = 0

    @property
    def progress(self) -> float:
        if not self.job or self.job_count <= 0:
            return 0.0
        done = self.job_no / self.job_count
        if self.sampling_steps > 0:
            done += min(self.sampling_step / self.sampling_steps, 1.0) / self.job_count
        return min(done, 1.0)

    def eta_relative(self, now: float) -> float:
        progress = self.progress
        if progress <= 0:
            return 0.0
        elapsed = now - self.started
        return max(elapsed / progress - elapsed, 0.0)


class Progress:
    """The shared progress state; one job at a time runs, so one record is enough."""

    def __init__(self, preview_fn: PreviewFn | None = None) -> None:
        self._lock = threading.Lock()
        self._state = Snapshot()
        self.preview_fn = preview_fn

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(**vars(self._state))

    def begin(self, job: str, job_count: int, queued: int) -> None:
        with self._lock:
            self._state = Snapshot(
                job=job,
                job_timestamp=time.strftime("%Y%m%d%H%M%S"),
                job_count=max(job_count, 1),
                started=time.time(),
                queued=queued,
            )

    def end(self, queued: int) -> None:
        with self._lock:
            self._state = Snapshot(queued=queued)

    def set_queued(self, queued: int) -> None:
        with self._lock:
            self._state.queued = queued

    def request_interrupt(self) -> bool:
        with self._lock:
            if not self._state.job:
                return False
            self._state.interrupted = True
            return True

    def request_skip(self) -> bool:
        with self._lock:
            if not self._state.job:
                return False
            self._state.skipped = True
            return True

    def flags(self) -> tuple[bool, bool]:
        """(interrupted, skipped), without copying the rest (read at every step and VAE block)."""
        with self._lock:
            return self._state.interrupted, self._state.skipped

    def update(self, fn: Callable[[Snapshot], None]) -> None:
        with self._lock:
            fn(self._state)


class JobProgress:
    """The worker's ``JobControl``: generation reports steps here and reads interrupt/skip."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._last_preview = 0.0

    def on_step(self, image_index: int, step: int, total_steps: int, latents: Any) -> None:
        def apply(s: Snapshot) -> None:
            s.job_no = min(max(image_index, 0), max(s.job_count - 1, 0))
            s.sampling_step = step
            s.sampling_steps = total_steps

        self._progress.update(apply)
        self._maybe_preview(latents)

    def _maybe_preview(self, latents: Any) -> None:
        fn = self._progress.preview_fn
        now = time.monotonic()
        if fn is None or latents is None or now - self._last_preview < PREVIEW_EVERY_S:
            return
        self._last_preview = now
        try:
            image = fn(latents)
        except Exception as exc:  # a preview must never break a generation
            log.debug("preview failed: %s", exc)
            return

        def store(s: Snapshot) -> None:
            s.preview = image
            s.preview_id += 1

        self._progress.update(store)

    def should_interrupt(self) -> bool:
        return self._progress.flags()[0]

    def should_skip(self) -> bool:
        return self._progress.flags()[1]

    def clear_skip(self) -> None:
        def clear(s: Snapshot) -> None:
            s.skipped = False

        self._progress.update(clear)
