"""Reading a reply body in blocks: straight from the socket into reusable buffers when possible.

For a plain body (not chunked, not compressed) ``readinto1`` moves bytes from the kernel into
Maple's buffer, one copy instead of three; anything unusual falls back to urllib3's ``read1``.
Each block comes with ``release()``, to be called once its bytes are written and hashed.
"""

from __future__ import annotations

import http.client
import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from installer.downloads.http import RETRYABLE

BLOCK_S = 0.2  # a slow connection still writes, reports and checks for stop this often


@dataclass(frozen=True)
class Block:
    view: memoryview
    release: Callable[[], None]


class BufferPool:
    """A few buffers handed round between the reader and the hasher (the hasher's back-pressure)."""

    def __init__(self, count: int, size: int) -> None:
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(count):
            self._free.put(bytearray(size))

    def get(self) -> bytearray:
        return self._free.get(timeout=300)

    def put(self, buf: bytearray) -> None:
        self._free.put(buf)


def _socket_file(resp: requests.Response) -> tuple[http.client.HTTPResponse, Any, int] | None:
    fp = getattr(resp.raw, "_fp", None)
    if not isinstance(fp, http.client.HTTPResponse) or fp.chunked or fp.length is None:
        return None
    if resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity"):
        return None
    sock_file = getattr(fp, "fp", None)
    return (fp, sock_file, fp.length) if hasattr(sock_file, "readinto1") else None


def _reuse_connection(resp: requests.Response, fp: http.client.HTTPResponse) -> None:
    """The body was read to its end behind urllib3's back: close the reply and pool the connection."""
    fp.length = 0
    close = getattr(fp, "_close_conn", None)
    if callable(close):
        close()
        resp.raw.release_conn()


def _fill(sock_file: Any, view: memoryview, left: int) -> int:
    """Read into ``view`` until it is full, the body ends or BLOCK_S passes; partial bytes survive errors."""
    filled, began = 0, time.monotonic()
    try:
        while filled < len(view) and filled < left and (filled == 0 or time.monotonic() - began < BLOCK_S):
            n = sock_file.readinto1(view[filled : min(len(view), left)])
            if not n:
                raise http.client.IncompleteRead(b"", left - filled)
            filled += n
    except RETRYABLE as exc:
        exc.filled = filled  # type: ignore[attr-defined]
        raise
    return filled


def _releaser(pool: BufferPool | None, buf: bytearray) -> Callable[[], None]:
    return (lambda: pool.put(buf)) if pool is not None else (lambda: None)


def _fast_blocks(resp: requests.Response, fast: tuple[http.client.HTTPResponse, Any, int], size: int, pool: BufferPool | None) -> Iterator[Block]:
    fp, sock_file, left = fast
    own = bytearray(size)
    while left:
        buf = pool.get() if pool is not None else own
        release = _releaser(pool, buf)
        view = memoryview(buf)
        try:
            n = _fill(sock_file, view, left)
        except RETRYABLE as exc:
            if exc.filled:  # type: ignore[attr-defined]
                yield Block(view[: exc.filled], release)  # type: ignore[attr-defined]
            else:
                release()
            raise
        left -= n
        yield Block(view[:n], release)
    _reuse_connection(resp, fp)


def _compat_blocks(resp: requests.Response, size: int) -> Iterator[Block]:
    while data := resp.raw.read1(size, decode_content=True):
        yield Block(memoryview(data), lambda: None)


def blocks(resp: requests.Response, size: int, pool: BufferPool | None = None) -> Iterator[Block]:
    """The body in blocks of at most ``size`` bytes (fewer when the connection is slow)."""
    fast = _socket_file(resp)
    return _fast_blocks(resp, fast, size, pool) if fast else _compat_blocks(resp, size)
