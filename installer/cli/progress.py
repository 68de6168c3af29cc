"""Terminal progress bars for the command-line tools (bytes, speed, ETA), throttled to ~10 a second.

On a terminal the bar redraws in place; when the output is a file or a pipe only the final line is
written, so logs stay readable.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from installer.display import human_size

__all__ = ["ProgressBar", "human_size", "human_time"]


def human_time(seconds: float | None) -> str:
    if seconds is None or seconds < 0 or seconds > 99 * 3600:
        return "--:--"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class ProgressBar:
    """``update(done, total)`` as often as you like; ``close()`` writes the final line."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 28, rate: float = 10.0) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interval = 1.0 / rate
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last = 0.0
        self._line = ""
        self.done = 0
        self.total: int | None = None
        self.speed: float | None = None
        self.eta: float | None = None

    def update(self, done: int, total: int | None, speed: float | None = None, eta: float | None = None) -> None:
        self.done, self.total = done, total
        elapsed = time.monotonic() - self.started
        self.speed = speed if speed is not None else (done / elapsed if elapsed > 0 else None)
        if eta is None and self.speed and total:
            eta = (total - done) / self.speed
        self.eta = eta
        now = time.monotonic()
        if self.tty and now - self._last >= self.interval:
            self._last = now
            self._draw(self.render())

    def render(self) -> str:
        if self.total:
            frac = min(1.0, self.done / self.total)
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            amount = f"{frac * 100:5.1f}%  {human_size(self.done)} / {human_size(self.total)}"
        else:
            bar, amount = "?" * self.width, human_size(self.done)
        speed = f"{human_size(self.speed)}/s" if self.speed else "-"
        return f"{self.label} [{bar}] {amount}  {speed}  ETA {human_time(self.eta)}"

    def _draw(self, line: str) -> None:
        line = line[: shutil.get_terminal_size((100, 20)).columns - 1]  # a wrapped line cannot be redrawn
        pad = " " * max(0, len(self._line) - len(line))
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self._line = line

    def close(self, message: str = "") -> None:
        """Finish the bar: the final state (or ``message``) on a line of its own."""
        final = message or self.render()
        if self.tty:
            self._draw(final)
            self.stream.write("\n")
        else:
            self.stream.write(final + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Remove the bar (on a terminal) so that a result can be printed in its place."""
        if self.tty and self._line:
            self.stream.write("\r" + " " * len(self._line) + "\r")
            self.stream.flush()
            self._line = ""
