"""Several connections at once, one piece per range request, hashed in order as pieces complete.

A per-connection speed cap (common on CDNs) then does not cap the user. Pieces are handed out
lowest first, so the finished prefix grows steadily and the hasher follows it closely; the state
file records the bytes done in every piece, so a resume loses nothing. A server that answers a
piece request with the whole file ends the pieces with ``Route.ONE_CONNECTION``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import BinaryIO

import requests

from installer.downloads.context import Route, Stopped, Transfer, retrying
from installer.downloads.errors import RangeMismatchError, SourceFailedError
from installer.downloads.fetch import pump
from installer.downloads.http import make_session
from installer.downloads.lifecycle import DownloadState
from installer.downloads.probe import describe, open_request

log = logging.getLogger(__name__)

MIN_PIECE = 8 * 1024 * 1024
MAX_PIECE = 64 * 1024 * 1024
JUDGE_S = 1.5  # how long several connections run before they are compared with one
GAIN_NEEDED = 1.3


def piece_size_for(size: int, connections: int) -> int:
    return max(MIN_PIECE, min(MAX_PIECE, size // (connections * 8)))


class Pieces:
    """Which pieces are done, which are free, and the contiguous finished prefix."""

    def __init__(self, t: Transfer) -> None:
        assert t.size is not None
        self.t, self.size, self.ps = t, t.size, t.state.piece_size
        self.count = -(-self.size // self.ps)
        self.lock = t.lock  # the one the state is saved under: no dict changes mid-save
        self._first_open = 0
        self.pending = [i for i in range(self.count) if self.done_in(i) < self.length(i)]

    def length(self, i: int) -> int:
        return min(self.ps, self.size - i * self.ps)

    def done_in(self, i: int) -> int:
        return self.t.state.pieces.get(i, 0)

    def take(self) -> int | None:
        with self.lock:
            return self.pending.pop(0) if self.pending else None

    def record(self, i: int, done: int, n: int) -> bool:
        """Piece ``i`` now holds ``done`` bytes (``n`` new ones); True: go on reading."""
        assert self.t.hasher is not None
        with self.lock:
            self.t.state.pieces[i] = done
            self.t.hasher.advance(self.frontier())
        self.t.meter.add(n)
        return True

    def frontier(self) -> int:
        k = self._first_open
        while k < self.count and self.done_in(k) >= self.length(k):
            k += 1
        self._first_open = k
        return self.size if k == self.count else k * self.ps + self.done_in(k)


def _piece_step(t: Transfer, p: Pieces, i: int, fh: BinaryIO, session: requests.Session) -> Route | None:
    start = i * p.ps + p.done_in(i)
    end = i * p.ps + p.length(i) - 1
    if start > end:
        return Route.DONE
    url = t.direct_url or t.url
    try:
        resp = open_request(session, url, t.net, t.policy, start, end, t.validator())
    except SourceFailedError:
        if url == t.url:
            raise
        log.info("%s: the redirect target expired; asking %s again", t.target.name, t.url)
        t.direct_url = None
        return None
    with resp:
        reply = describe(resp)
        t.note_redirect(resp)
        if reply.status == 200:
            return Route.ONE_CONNECTION
        if reply.status != 206:
            raise SourceFailedError(f"{t.url} refused the range from byte {start}")
        if reply.start != start:
            raise RangeMismatchError(f"{t.url} answered a request for byte {start} with bytes from {reply.start}")
        if reply.total not in (None, p.size):
            raise SourceFailedError(f"{t.url} now offers a file of {reply.total} bytes, expected {p.size}")
        fh.seek(start)
        pump(t, resp, fh, start, end + 1, lambda pos, n: p.record(i, pos - i * p.ps, n))
    return Route.DONE if p.done_in(i) >= p.length(i) else None


class _Workers:
    def __init__(self, t: Transfer, p: Pieces) -> None:
        self.t, self.p = t, p
        self.abort = threading.Event()
        self.ending: BaseException | Route | None = None  # what ended the pieces early: an error, or a route
        self.allowed = t.connections
        t.stop.events.append(self.abort)

    def run_one(self, k: int) -> None:
        session = make_session(self.t.net, pool=1)
        try:
            with self.t.part.open("r+b", buffering=0) as fh:
                while k < self.allowed and (i := self.p.take()) is not None:
                    route = retrying(self.t, lambda: _piece_step(self.t, self.p, i, fh, session), lambda: self.p.done_in(i))
                    if route is Route.ONE_CONNECTION:
                        self._end(route)
                        return
        except BaseException as exc:
            self._end(exc)
        finally:
            session.close()

    def _end(self, why: BaseException | Route) -> None:
        """The first thing that ends the pieces early stands; the others then stop (not an ending)."""
        if self.ending is None and not (isinstance(why, Stopped) and self.abort.is_set()):
            self.ending = why
        self.abort.set()

    def _judge(self, elapsed: float, got: int) -> None:
        """Back to one connection when several are no faster (this machine, not the server, is the limit)."""
        single = self.t.single_bps
        if single is None or self.allowed == 1 or elapsed < JUDGE_S:
            return
        if got / elapsed < single * GAIN_NEEDED:
            log.info("%s: %d connections give %.1f MB/s, one gave %.1f; going back to one",
                     self.t.target.name, self.allowed, got / elapsed / 1e6, single / 1e6)
            self.allowed = 1
        self.t.single_bps = None  # judged once

    def run(self, n: int) -> Route:
        threads = [threading.Thread(target=self.run_one, args=(k,), name=f"dl-{self.t.target.name}-{k}", daemon=True) for k in range(n)]
        for th in threads:
            th.start()
        began, done0 = time.monotonic(), self.t.meter.done
        try:
            for th in threads:
                while th.is_alive():
                    th.join(0.25)
                    self.t.save()
                    self._judge(time.monotonic() - began, self.t.meter.done - done0)
        finally:
            self.abort.set()
            for th in threads:
                th.join()
            self.t.stop.events.remove(self.abort)
            self.t.save(force=True)
        if isinstance(self.ending, BaseException):
            raise self.ending
        return self.ending or Route.DONE


def run_parallel(t: Transfer) -> Route:
    """Download the missing pieces of a file of known size over ``t.connections`` connections;
    returns ``Route.ONE_CONNECTION`` when the server ignores ranges and one stream must do it."""
    assert t.size is not None
    if not t.state.piece_size or t.state.size != t.size:
        done = t.state.pieces.get(0, 0) if not t.state.piece_size else 0
        ps = piece_size_for(t.size, t.connections)
        t.state.piece_size = ps
        t.state.pieces = {i: min(ps, done - i * ps) for i in range(-(-done // ps))}  # a single stream's prefix
    with t.part.open("ab") as fh:
        fh.truncate(t.size)
    pieces = Pieces(t)
    t.meter.set(done=t.state.done_bytes(), total=t.size, state=DownloadState.DOWNLOADING)
    hasher = t.hasher if t.hasher is not None else t.new_hasher()
    hasher.advance(pieces.frontier())
    return _Workers(t, pieces).run(min(t.connections, max(len(pieces.pending), 1)))
