"""Moving bytes: one stream into the ``.part`` (resuming with Range + If-Range), and the shared pump."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import BinaryIO

import requests

from installer.downloads.context import Route, Stopped, Transfer, retrying
from installer.downloads.diskio import write_all
from installer.downloads.errors import RangeMismatchError, SourceFailedError
from installer.downloads.lifecycle import DownloadState
from installer.downloads.probe import Reply, describe, open_request, sniff
from installer.downloads.reader import BufferPool, blocks

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
PARALLEL_MIN = 32 * 1024 * 1024
PROBE_S = 0.3  # how long the first connection is timed before more are opened
FAST_SINGLE = 150e6  # bytes/s: a connection this fast is kept alone
POOL = 4  # receive buffers per single stream: one being filled, others waiting for the hasher


Feed = Callable[[int, memoryview, Callable[[], None]], None]
OnBytes = Callable[[int, int], bool]  # (new position, bytes written) -> go on reading


def pump(t: Transfer, resp: requests.Response, fh: BinaryIO, pos: int, limit: int | None, on_bytes: OnBytes, feed: Feed | None = None) -> int:
    """Copy the body to ``fh`` (already at ``pos``); never past ``limit``; returns the new position.

    ``feed`` (a single stream) takes each written block for hashing from memory. When the
    connection breaks, the bytes that already arrived are written first, so a resume loses nothing.
    ``on_bytes`` returning False ends the copy there (the caller changes how it transfers).
    """
    pool = BufferPool(POOL, CHUNK) if feed is not None else None
    for block in blocks(resp, CHUNK, pool):
        try:
            if pos == 0:
                sniff(bytes(block.view[:512]), t.url)
            if limit is not None and pos + len(block.view) > limit:
                raise SourceFailedError(f"{t.url} sent more bytes than the file's {limit} bytes")
            write_all(fh, block.view, t.part)
        except BaseException:
            block.release()
            raise
        if feed is not None:
            feed(pos, block.view, block.release)
        else:
            block.release()
        pos += len(block.view)
        if not on_bytes(pos, len(block.view)):
            break
        if t.stop.is_set():
            raise Stopped()
    return pos


def _restart(t: Transfer) -> None:
    log.info("%s: the server ignored the resume request; starting over", t.target.name)
    with t.part.open("r+b") as fh:
        fh.truncate(0)
    t.state.pieces = {0: 0}
    t.state.piece_size = 0
    t.meter.set(done=0)
    t.new_hasher()


def _wrong_size(t: Transfer, resp: requests.Response, reply: Reply) -> SourceFailedError:
    """A file of the wrong size: name a small page or pointer as such, else say the sizes."""
    if reply.start == 0 and (reply.total or 0) < 65536:
        sniff(resp.raw.read(4096), t.url)
    return SourceFailedError(f"{t.url} offers a file of {reply.total} bytes, expected {t.size}")


def _check_reply(t: Transfer, resp: requests.Response, reply: Reply, offset: int) -> int:
    """Judge a reply to a request from ``offset``; returns the offset the body starts at."""
    if reply.status == 416:
        raise SourceFailedError(f"{t.url} has no bytes from {offset} on: its file is not the expected {t.size} bytes")
    if reply.status == 200 and offset:
        _restart(t)
        return 0
    if reply.status == 206 and reply.start != offset:
        raise RangeMismatchError(f"{t.url} answered a request for byte {offset} with bytes from {reply.start}")
    if reply.status == 206 and t.size is not None and reply.total not in (None, t.size):
        raise _wrong_size(t, resp, reply)
    return offset


def _step(t: Transfer, want_parallel: bool) -> Route | None:
    offset = t.state.pieces.get(0, 0)
    if t.size is not None and offset >= t.size:
        return Route.DONE
    validator = t.validator() if offset else None
    with open_request(t.session, t.url, t.net, t.policy, offset, validator=validator, ranged=want_parallel) as resp:
        reply = describe(resp)
        t.note_redirect(resp)
        offset = _check_reply(t, resp, reply, offset)
        t.learn(reply)
        probe = _Probe(t, offset) if want_parallel and reply.status == 206 and (t.size or 0) >= PARALLEL_MIN else None
        t.meter.set(state=DownloadState.DOWNLOADING)
        route = _stream(t, resp, offset, probe)
    if route is None and t.size is not None and t.state.pieces[0] >= t.size:
        return Route.DONE
    return route


class _Probe:
    """Times the single stream; a slow one (a per-connection cap) switches to several connections.

    One connection that already delivers FAST_SINGLE or more stays alone: more connections would
    only add work on this machine, not speed.
    """

    def __init__(self, t: Transfer, offset: int) -> None:
        self.t, self.first, self.began = t, offset, time.monotonic()
        self.decided = False
        self.wants_more = False

    def stay_single(self, pos: int) -> bool:
        """False (once) when this stream should give way to several connections."""
        elapsed = time.monotonic() - self.began
        if self.decided or elapsed < PROBE_S:
            return True
        self.decided = True  # once: a noisy machine must not flip-flop
        speed = (pos - self.first) / max(elapsed, 1e-9)
        if speed < FAST_SINGLE and (self.t.size or 0) - pos >= PARALLEL_MIN:
            log.info("%s: one connection gives %.1f MB/s; using %d", self.t.target.name, speed / 1e6, self.t.connections)
            self.t.single_bps = speed
            self.wants_more = True
        return not self.wants_more


def _stream(t: Transfer, resp: requests.Response, offset: int, probe: _Probe | None = None) -> Route | None:
    hasher = t.hasher
    assert hasher is not None

    def on_bytes(pos: int, n: int) -> bool:
        t.state.pieces[0] = pos
        hasher.advance(pos)
        t.meter.add(n)
        t.save()
        return probe is None or probe.stay_single(pos)

    with t.part.open("r+b", buffering=0) as fh:
        fh.seek(offset)
        end = pump(t, resp, fh, offset, t.size, on_bytes, hasher.feed)
    if probe is not None and probe.wants_more:
        return Route.MORE_CONNECTIONS
    if t.size is None:
        t.size = t.state.size = end
        return Route.DONE
    return None


def run_sequential(t: Transfer, allow_parallel: bool) -> Route:
    """Download into the ``.part`` over one connection, resuming from what it holds; returns
    ``Route.MORE_CONNECTIONS`` when the stream is slow and several connections should finish it."""
    part = t.part
    part.touch(exist_ok=True)
    have = part.stat().st_size
    if t.state.piece_size or (t.size is not None and have > t.size):
        have = 0
    with part.open("r+b") as fh:
        fh.truncate(have)
    t.state.piece_size, t.state.pieces = 0, {0: have}
    t.meter.set(done=have)
    hasher = t.new_hasher()
    hasher.advance(have)
    want_parallel = allow_parallel and t.connections > 1
    try:
        return retrying(t, lambda: _step(t, want_parallel), lambda: t.state.pieces.get(0, 0))
    finally:
        t.save(force=True)
