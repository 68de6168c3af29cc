"""Moving bytes: one stream into the ``.part`` (resuming with Range + If-Range), and the shared pump."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import BinaryIO

import requests

from installer.downloads.context import Stopped, Transfer, retrying
from installer.downloads.diskio import write_all
from installer.downloads.errors import RangeMismatchError, SourceFailedError
from installer.downloads.http import RETRYABLE
from installer.downloads.probe import Reply, describe, open_request, sniff

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
PARALLEL_MIN = 32 * 1024 * 1024
FLUSH_S = 0.2


class GoParallel(Exception):
    """The first reply showed a large file from a server that accepts ranges."""


def pump(t: Transfer, resp: requests.Response, fh: BinaryIO, pos: int, limit: int | None, on_bytes: Callable[[int, int], None]) -> int:
    """Copy the body to ``fh`` (already at ``pos``); never past ``limit``; returns the new position.

    Bytes are read as they arrive and written in blocks of about CHUNK; when the connection breaks,
    what already arrived is written first, so a resume loses nothing.
    """
    buf = bytearray()
    flushed = time.monotonic()

    def flush() -> None:
        nonlocal pos, flushed
        flushed = time.monotonic()
        if buf:
            write_all(fh, buf, t.part)
            pos += len(buf)
            on_bytes(pos, len(buf))
            buf.clear()

    try:
        while data := resp.raw.read1(CHUNK):
            if pos == 0 and not buf:
                sniff(data, t.url)
            if limit is not None and pos + len(buf) + len(data) > limit:
                raise SourceFailedError(f"{t.url} sent more bytes than the file's {limit} bytes")
            buf += data
            if len(buf) >= CHUNK or time.monotonic() - flushed > FLUSH_S:
                flush()
            if t.stop.is_set():
                flush()
                raise Stopped()
    except RETRYABLE:
        flush()
        raise
    flush()
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


def _step(t: Transfer, want_parallel: bool) -> bool:
    offset = t.state.pieces.get(0, 0)
    if t.size is not None and offset >= t.size:
        return True
    validator = t.validator() if offset else None
    with open_request(t.session, t.url, t.settings, t.policy, offset, validator=validator, ranged=want_parallel) as resp:
        reply = describe(resp)
        offset = _check_reply(t, resp, reply, offset)
        t.learn(reply)
        if want_parallel and reply.status == 206 and offset == 0 and (t.size or 0) >= PARALLEL_MIN:
            raise GoParallel()
        t.meter.set(state="downloading")
        complete = _stream(t, resp, offset)
    return complete or (t.size is not None and t.state.pieces[0] >= t.size)


def _stream(t: Transfer, resp: requests.Response, offset: int) -> bool:
    hasher = t.hasher
    assert hasher is not None

    def on_bytes(pos: int, n: int) -> None:
        t.state.pieces[0] = pos
        hasher.advance(pos)
        t.meter.add(n)
        t.save()

    with t.part.open("r+b", buffering=0) as fh:
        fh.seek(offset)
        end = pump(t, resp, fh, offset, t.size, on_bytes)
    if t.size is None:
        t.size = t.state.size = end
        return True
    return False


def run_sequential(t: Transfer, allow_parallel: bool) -> None:
    """Download into the ``.part`` over one connection, resuming from what it holds."""
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
    want_parallel = allow_parallel and have == 0 and t.connections > 1
    try:
        retrying(t, lambda: _step(t, want_parallel), lambda: t.state.pieces.get(0, 0))
    finally:
        t.save(force=True)
