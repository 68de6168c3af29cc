"""Wrong passwords cost time: per client address, failed logins are slowed, then refused with 429.

The first ``free`` failures in a ``window_s`` are answered at once (a typo costs nothing); each
later one waits ``delay_s`` before its 401; at ``lock_after`` failures the client is refused with
429 for ``lock_s`` seconds, even with the right password, and the console says so once. Failures
are counted before the wait, so guesses sent in parallel lock the client just as fast.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_CLIENTS = 10_000  # remembered at once; the oldest are forgotten first


@dataclass
class _Record:
    failures: int
    first: float
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, free: int = 3, lock_after: int = 10, delay_s: float = 0.5, window_s: float = 600.0,
                 lock_s: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.lock_after, self.delay_s = free, lock_after, delay_s
        self.window_s, self.lock_s, self.clock = window_s, lock_s, clock
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def locked_for(self, client: str) -> float:
        """Seconds ``client`` is still refused (0 when it may try)."""
        with self._lock:
            record = self._records.get(client)
            return max(record.locked_until - self.clock(), 0.0) if record else 0.0

    def failed(self, client: str) -> float:
        """Count a wrong login; returns how long to wait before answering it."""
        now = self.clock()
        with self._lock:
            record = self._records.get(client)
            if record is None or self._expired(record, now):
                self._records.pop(client, None)
                record = self._records[client] = _Record(0, now)
                self._forget_oldest()
            record.failures += 1
            if record.failures == self.lock_after:
                record.locked_until = now + self.lock_s
                log.warning("%d wrong logins from %s: refusing its logins for %.0f s.",
                            record.failures, client, self.lock_s)
            return self.delay_s if record.failures > self.free else 0.0

    def _expired(self, record: _Record, now: float) -> bool:
        """A lock that has run out, or failures older than the window, start the count again."""
        if record.locked_until:
            return record.locked_until <= now
        return now - record.first > self.window_s

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._records.pop(client, None)

    def _forget_oldest(self) -> None:
        while len(self._records) > MAX_CLIENTS:
            del self._records[next(iter(self._records))]
