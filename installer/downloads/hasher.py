"""sha256 of a file that is still being written, following its contiguous finished prefix.

The transfer threads call ``advance(frontier)`` when bytes up to ``frontier`` are on disk; a
background thread reads and hashes them in order, so hashing overlaps the network and the file is
not read a second time at the end (it comes back from the page cache).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

CHUNK = 4 * 1024 * 1024


class FollowingHasher:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._digest = hashlib.sha256()
        self._cond = threading.Condition()
        self._frontier = 0
        self._hashed = 0
        self._closing = False
        self._aborted = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"hash-{path.name}", daemon=True)
        self._thread.start()

    def advance(self, frontier: int) -> None:
        with self._cond:
            if frontier > self._frontier:
                self._frontier = frontier
                self._cond.notify()

    def finish(self) -> tuple[str, int]:
        """Wait for every advanced byte to be hashed; returns (hex digest, bytes hashed)."""
        self._stop()
        if self._error is not None:
            raise self._error
        return self._digest.hexdigest(), self._hashed

    def abort(self) -> None:
        self._aborted = True
        self._stop()

    def _stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    def _next_target(self) -> int | None:
        with self._cond:
            while self._hashed >= self._frontier and not self._closing:
                self._cond.wait()
            return self._frontier if self._hashed < self._frontier and not self._aborted else None

    def _run(self) -> None:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        try:
            with self._path.open("rb", buffering=0) as fh:
                while (target := self._next_target()) is not None:
                    fh.seek(self._hashed)
                    while self._hashed < target and not self._aborted:
                        n = fh.readinto(view[: min(CHUNK, target - self._hashed)])
                        if not n:
                            raise OSError(f"{self._path} is shorter than the bytes written to it")
                        self._digest.update(view[:n])
                        self._hashed += n
        except BaseException as exc:  # reported by finish()
            self._error = exc
