"""sha256 of a file that is still being written, in order, on its own thread.

Two ways in: ``feed(pos, view, release)`` hands over a block still in memory (a single stream:
hashed straight from the receive buffer, then ``release()`` gives the buffer back), and
``advance(frontier)`` says bytes up to ``frontier`` are on disk (several connections: they are read
back from the page cache in order). Hashing overlaps the network either way, and the finished
file is never read a second time.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

CHUNK = 4 * 1024 * 1024
Fed = tuple[int, memoryview, Callable[[], None]]


class FollowingHasher:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._digest = hashlib.sha256()
        self._cond = threading.Condition()
        self._frontier = 0
        self._hashed = 0
        self._fed: deque[Fed] = deque()
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

    def feed(self, pos: int, view: memoryview, release: Callable[[], None]) -> None:
        """Hash ``view`` (the bytes at ``pos``, already written) from memory, then call ``release``."""
        with self._cond:
            if not (self._aborted or self._error):
                self._fed.append((pos, view, release))
                self._frontier = max(self._frontier, pos + len(view))
                self._cond.notify()
                return
        release()

    def finish(self) -> tuple[str, int]:
        """Wait for every byte handed over to be hashed; returns (hex digest, bytes hashed)."""
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
        self._release_all()

    def _release_all(self) -> None:
        with self._cond:
            fed, self._fed = list(self._fed), deque()
        for _, _, release in fed:
            release()

    def _next(self) -> Fed | int | None:
        """The next work: a fed block starting at or before the hashed point, a file offset to read to, or None."""
        with self._cond:
            while True:
                while self._fed and self._fed[0][0] + len(self._fed[0][1]) <= self._hashed:
                    self._fed.popleft()[2]()
                if self._aborted:
                    return None
                if self._fed and self._fed[0][0] <= self._hashed:
                    return self._fed.popleft()
                limit = self._fed[0][0] if self._fed else self._frontier
                if limit > self._hashed:
                    return limit
                if self._closing:
                    return None
                self._cond.wait()

    def _run(self) -> None:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        try:
            with self._path.open("rb", buffering=0) as fh:
                while (work := self._next()) is not None:
                    if isinstance(work, int):
                        self._from_file(fh, view, work)
                    else:
                        pos, block, release = work
                        self._digest.update(block[self._hashed - pos :])
                        self._hashed = pos + len(block)
                        release()
        except BaseException as exc:  # reported by finish()
            self._error = exc
            self._release_all()

    def _from_file(self, fh: object, view: memoryview, target: int) -> None:
        fh.seek(self._hashed)  # type: ignore[attr-defined]
        while self._hashed < target and not self._aborted:
            n = fh.readinto(view[: min(CHUNK, target - self._hashed)])  # type: ignore[attr-defined]
            if not n:
                raise OSError(f"{self._path} is shorter than the bytes written to it")
            self._digest.update(view[:n])
            self._hashed += n
