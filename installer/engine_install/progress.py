"""One progress report of an engine install: the phase, bytes, speed and time left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PHASES = ("checking", "planning", "downloading", "installing", "verifying", "done")


@dataclass(frozen=True)
class InstallProgress:
    phase: str
    done: int = 0  # bytes downloaded (all files)
    total: int = 0  # bytes to download in all; 0 when not known yet
    speed_bps: float = 0.0
    eta_s: float | None = None
    detail: str = ""  # the file being fetched, or a sentence

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


ProgressFn = Callable[[InstallProgress], None]


def human_size(size: float) -> str:
    """Sizes as everywhere in Maple (decimal GB, :mod:`installer.display`)."""
    from installer.display import human_size as shown

    return shown(size)


def human_time(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
