"""Start-up timing in A1111's words: ``Startup time: 4.2s (import torch: 1.1s, load model: 0.9s)``."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MIN_SHOWN = 0.1  # categories shorter than this are left out, as A1111 does


class StartupTimer:
    """Records named phases of the start; safe to use from several threads."""

    def __init__(self, start: float | None = None) -> None:
        self.start = time.perf_counter() if start is None else start
        self.phases: dict[str, float] = {}
        self._lock = threading.Lock()
        self.total: float | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - began)

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.phases[name] = self.phases.get(name, 0.0) + seconds

    def finish(self) -> float:
        self.total = time.perf_counter() - self.start
        return self.total

    def line(self) -> str:
        total = self.total if self.total is not None else self.finish()
        with self._lock:
            shown = [f"{name}: {secs:.1f}s" for name, secs in self.phases.items() if secs >= MIN_SHOWN]
        detail = f" ({', '.join(shown)})" if shown else ""
        return f"Startup time: {total:.1f}s{detail}."


def _linux_process_age() -> float | None:
    """Seconds since this process started, from /proc with 10 ms precision (psutil's create_time
    rounds the boot time to whole seconds)."""
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        return uptime - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def process_start_time() -> float:
    """perf_counter value at which this process started (so interpreter start-up counts too)."""
    age = _linux_process_age() if sys.platform.startswith("linux") else None
    if age is None:
        try:
            import psutil

            age = time.time() - psutil.Process().create_time()
        except Exception:  # psutil missing or no permission: count from now
            return time.perf_counter()
    return time.perf_counter() - min(max(age, 0.0), 600.0)
