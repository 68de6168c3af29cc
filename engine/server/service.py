"""The running engine as the HTTP side sees it: configuration, the worker, progress and readiness.

``EngineService`` owns the one worker thread; the ``Runtime`` (models and generation) changes the
model only in that thread; its lookups and state properties are read from HTTP threads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.cli import EngineConfig
from engine.server import api_models as m
from engine.server.progress import Progress
from engine.server.timing import StartupTimer
from engine.server.worker import JobFn, Worker
from engine.version import engine_version

if TYPE_CHECKING:
    from engine.server.runtime import Runtime

log = logging.getLogger(__name__)


class EngineService:
    def __init__(self, config: EngineConfig, runtime: Runtime, timer: StartupTimer | None = None) -> None:
        self.config = config
        self.runtime = runtime
        self.timer = timer or StartupTimer()
        self.progress = Progress(preview_fn=runtime.preview)
        self.worker = Worker(self.progress)
        self.ready = threading.Event()
        self.startup_time: float | None = None
        self.startup_error: BaseException | None = None
        self.on_ready: Callable[[], None] | None = None
        self.shutdown_requested = threading.Event()
        self._preview_cache: tuple[int, str] | None = None

    def start(self) -> None:
        """Start the worker; its first job imports torch and loads the model."""
        self.worker.start()
        self.worker.submit("start-up", self._startup)

    def _startup(self, control: Any) -> None:
        try:
            self.runtime.startup(self.timer)
        except BaseException as exc:
            self.startup_error = exc
            raise
        self.startup_time = self.timer.finish()
        self.ready.set()
        if self.on_ready is not None:
            self.on_ready()

    def submit(self, name: str, fn: JobFn, job_count: int = 1) -> Any:
        return self.worker.submit(name, fn, job_count)

    async def call(self, name: str, fn: JobFn, job_count: int = 1) -> Any:
        """Queue ``fn`` on the worker and wait for its result without blocking the event loop."""
        return await asyncio.wrap_future(self.worker.submit(name, fn, job_count))

    def request_shutdown(self) -> None:
        self.shutdown_requested.set()

    def stop(self, timeout: float = 3.0) -> bool:
        return self.worker.stop(timeout)

    def progress_report(self, skip_current_image: bool = False) -> m.ProgressResponse:
        import time

        snap = self.progress.snapshot()
        state = m.ProgressState(
            skipped=snap.skipped,
            interrupted=snap.interrupted,
            job=snap.job,
            job_count=snap.job_count,
            job_timestamp=snap.job_timestamp,
            job_no=snap.job_no,
            sampling_step=snap.sampling_step,
            sampling_steps=snap.sampling_steps,
        )
        image = None if skip_current_image else self._preview_b64(snap.preview, snap.preview_id)
        text = f"Step {snap.sampling_step}/{snap.sampling_steps}" if snap.job else None
        if snap.queued > 1:
            text = f"{text or 'Waiting'}; {snap.queued - 1 if snap.job else snap.queued} more in the queue"
        return m.ProgressResponse(
            progress=round(snap.progress, 4),
            eta_relative=round(snap.eta_relative(time.time()), 3),
            state=state,
            current_image=image,
            textinfo=text,
        )

    def _preview_b64(self, preview: Any, preview_id: int) -> str | None:
        if preview is None:
            return None
        cached = self._preview_cache
        if cached is not None and cached[0] == preview_id:
            return cached[1]
        from engine.server.images import encode_preview

        encoded = encode_preview(preview)
        self._preview_cache = (preview_id, encoded)
        return encoded

    def info(self) -> m.InfoResponse:
        rt = self.runtime
        return m.InfoResponse(
            version=engine_version(),
            device=rt.device_name,
            precision=rt.precision_name,
            vram_mode="" if rt.device_name == "cpu" else rt.vram_mode_name,  # no VRAM words without a GPU
            model=rt.current_title(),
            demo=rt.is_demo(),
            demo_model=rt.model.demo_model if rt.model else "",
            home=str(self.config.home.root),
            pid=os.getpid(),
        )
