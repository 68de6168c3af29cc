"""The shared state of one transfer from one source: where, what is expected, progress, stop.

A transfer step ends with a ``Route``: done, or the choice between one connection and several
(a slow single stream asks for more; a server that ignores ranges asks for one), returned as a
value for the runner to follow.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import requests

from installer.downloads.diskio import check_free_space
from installer.downloads.errors import HashMismatchError, SourceFailedError
from installer.downloads.hasher import FollowingHasher
from installer.downloads.http import RETRYABLE, RetryableHTTP, RetryPolicy, retry_after_of
from installer.downloads.lifecycle import DownloadState
from installer.downloads.network import NetworkSettings
from installer.downloads.probe import Reply
from installer.downloads.progress import Meter
from installer.downloads.reach import unreachable
from installer.downloads.state import PartState, part_path, save_state

log = logging.getLogger(__name__)


UNREACHABLE_ATTEMPTS = 2  # a source that never answered is left for the next one quickly
UNREACHABLE_DELAY = 0.3  # seconds before that one quick retry
SSL_HINT = "A proxy or security program may be intercepting the connection; check the proxy setting or choose another source."


class Stopped(Exception):
    """Raised inside a transfer when pause or cancel was asked for."""


class Route(Enum):
    """How a transfer step ended: its bytes are all there, or the transfer goes on another way."""

    DONE = "done"  # every byte the step was for is in the .part
    MORE_CONNECTIONS = "more"  # one connection is slow on a large file: open several
    ONE_CONNECTION = "one"  # the server answered a piece request with the whole file


class Stopper:
    """Any of several events (cancel, pause, an internal abort) stops the transfer."""

    def __init__(self, *events: threading.Event | None) -> None:
        self.events = [e for e in events if e is not None]

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)

    def check(self) -> None:
        if self.is_set():
            raise Stopped()

    def wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 0.05))
        return True


@dataclass
class Transfer:
    """Everything a sequential or parallel transfer of one source needs."""

    url: str
    source: str
    target: Path
    net: NetworkSettings
    policy: RetryPolicy
    session: requests.Session
    meter: Meter
    stop: Stopper
    state: PartState
    size: int | None
    sha256: str | None
    connections: int
    hasher: FollowingHasher | None = None
    responded: bool = False
    single_bps: float | None = None  # one connection's measured speed, before more were opened
    direct_url: str | None = None  # where the URL redirected to: pieces go there (one redirect, not one per piece)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _saved_at: float = 0.0

    @property
    def part(self) -> Path:
        return part_path(self.target)

    def new_hasher(self) -> FollowingHasher:
        if self.hasher is not None:
            self.hasher.abort()
        self.part.touch(exist_ok=True)
        self.hasher = FollowingHasher(self.part)
        return self.hasher

    def learn(self, reply: Reply) -> None:
        """Take size, hash and validators from a reply where the spec did not know them."""
        self.responded = True
        if self.sha256 and reply.published_sha256 and reply.published_sha256 != self.sha256:
            raise HashMismatchError(f"{self.url} publishes sha256 {reply.published_sha256}, not the expected {self.sha256}")
        if self.sha256 is None and reply.published_sha256:
            self.sha256 = self.state.sha256 = reply.published_sha256
            log.info("Using the published sha256 %s for %s", self.sha256, self.target.name)
        if self.size is None:
            self.size = reply.published_size or (reply.total if reply.status == 206 else None)
            if self.size is not None:
                check_free_space(self.target.parent, self.size - self.state.done_bytes())
        if self.size is not None:
            self.state.size = self.size
            self.meter.set(total=self.size)
        self.state.etag, self.state.last_modified = reply.etag, reply.last_modified

    def note_redirect(self, resp: requests.Response) -> None:
        self.responded = True
        if resp.history and resp.url != self.url:
            self.direct_url = resp.url

    def validator(self) -> str | None:
        return self.state.validator if self.state.url == self.url else None

    def save(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._saved_at >= 1.0:
            with self.lock:
                save_state(self.target, self.state)
            self._saved_at = now


def retrying(t: Transfer, step: Callable[[], Route | None], progress_of: Callable[[], int]) -> Route:
    """Call ``step`` until it returns a route (None: it ended early), backing off on transient
    failures without progress; returns that route."""
    attempt = 0
    while True:
        t.stop.check()
        before = progress_of()
        error: BaseException | None = None
        try:
            if (route := step()) is not None:
                return route
        except requests.exceptions.SSLError as exc:
            raise SourceFailedError(f"{t.url}: secure connection failed ({exc})", SSL_HINT) from exc
        except RETRYABLE as exc:
            error = exc
            t.responded = t.responded or isinstance(exc, RetryableHTTP)
        attempt = 0 if progress_of() > before else attempt + 1  # failures in a row without a byte gained
        tries = t.policy.attempts if t.responded else min(t.policy.attempts, UNREACHABLE_ATTEMPTS)
        if attempt >= tries and not t.responded:
            raise unreachable(t.url, error) from error
        if attempt >= tries:
            raise SourceFailedError(f"{t.url} kept failing ({error or 'the connection ended early'}) after {tries} tries") from error
        wait = retry_after_of(error)
        delay = 0.0 if attempt == 0 and wait is None else t.policy.delay(max(attempt, 1), wait)
        delay = delay if t.responded else min(delay, UNREACHABLE_DELAY)
        log.info("%s: %s; retrying in %.1fs", t.target.name, error or "connection ended early", delay)
        t.meter.set(state=DownloadState.RETRYING)
        if t.stop.wait(delay):
            raise Stopped()
        t.meter.set(state=DownloadState.DOWNLOADING)
