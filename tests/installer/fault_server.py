"""A local HTTP server for download tests and benchmarks: ranges, ETags, and injected faults.

Each served file has its own ``Faults``; counters (``cuts``, ``ignore_range``...) are used up one
per request, so "cut the connection 10 times, then behave" is ``Faults(cuts=10)``. Every request's
method, path and headers are kept in ``server.log`` for assertions.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHUNK = 64 * 1024


@dataclass
class Faults:
    statuses: list[int] = field(default_factory=list)  # replies given first, one per request
    retry_after: str | None = None
    cuts: int = 0  # requests cut at a random offset of their body
    ignore_range: int = 0  # range requests answered 200 with the whole file (-1: always)
    honour_first: int = 0  # range requests answered properly before ignore_range applies
    wrong_offset: int = 0  # range requests answered 206 from the wrong offset
    short_length: int = 0  # replies whose Content-Length is smaller than the body (body cut to it)
    long_length: int = 0  # replies whose Content-Length is larger than the body sent
    stalls: int = 0  # replies that stop sending after ``stall_after`` bytes for ``stall_s``
    stall_after: int = 1000
    stall_s: float = 5.0
    rate: float | None = None  # bytes per second per connection
    shared_rate: float | None = None  # bytes per second for all connections together (a slow line)
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    ranges: bool = True  # False: no Accept-Ranges, Range ignored
    corrupt: bool = False  # flip one byte in the middle of every body sent
    expire_after: int = -1  # after this many GETs, answer 403 (an expired signed URL)


@dataclass
class Resource:
    data: bytes | Path
    faults: Faults
    etag: str
    mtime: float = field(default_factory=time.time)
    redirect: str | None = None
    later: list[str] = field(default_factory=list)  # next redirect targets, one per request
    line_free_at: float = 0.0  # shared_rate: when the "line" can carry the next chunk

    @property
    def size(self) -> int:
        return self.data.stat().st_size if isinstance(self.data, Path) else len(self.data)

    def read(self, start: int, length: int) -> bytes:
        if isinstance(self.data, Path):
            with self.data.open("rb") as fh:
                fh.seek(start)
                return fh.read(length)
        return self.data[start : start + length]


def _take(faults: Faults, name: str) -> bool:
    value = getattr(faults, name)
    if value == 0:
        return False
    if value > 0:
        setattr(faults, name, value - 1)
    return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        path = self.path.split("?")[0]
        if path.startswith(("http://", "https://")):  # a proxy request carries the absolute URL
            path = "/" + path.split("/", 3)[3]
        self.server.log.append((self.command, self.path, dict(self.headers)))
        res = self.server.resources.get(path)
        if res is None:
            return self._plain(404, b"not found")
        with self.server.lock:
            status = res.faults.statuses.pop(0) if res.faults.statuses else None
        if status is not None:
            extra = {"Retry-After": res.faults.retry_after} if res.faults.retry_after else {}
            return self._plain(status, b"try later", extra)
        if res.redirect:
            with self.server.lock:
                location = res.redirect
                if res.later:
                    res.redirect = res.later.pop(0)
            return self._plain(302, b"", {"Location": location, **res.faults.headers})
        with self.server.lock:
            expired = res.faults.expire_after == 0
            res.faults.expire_after -= 1 if res.faults.expire_after > 0 and not head else 0
        if expired:
            return self._plain(403, b"Request has expired")
        self._send_file(res, head)

    def _plain(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _range(self, res: Resource) -> tuple[int, int] | None:
        header = self.headers.get("Range")
        if not header or not res.faults.ranges or not header.startswith("bytes="):
            return None
        if_range = self.headers.get("If-Range")
        if if_range and if_range not in (res.etag, formatdate(res.mtime, usegmt=True)):
            return None
        first, _, last = header[6:].partition("-")
        start = int(first)
        end = min(int(last), res.size - 1) if last else res.size - 1
        return start, end

    def _send_file(self, res: Resource, head: bool) -> None:
        f = res.faults
        rng = self._range(res)
        with self.server.lock:
            if rng and not _take(f, "honour_first") and _take(f, "ignore_range"):
                rng = None
            wrong = rng is not None and _take(f, "wrong_offset")
            cut = _take(f, "cuts")
            short, long_, stall = _take(f, "short_length"), _take(f, "long_length"), _take(f, "stalls")
        if rng and rng[0] >= res.size:
            return self._plain(416, b"", {"Content-Range": f"bytes */{res.size}"})
        start, end = rng if rng else (0, res.size - 1)
        if wrong:
            start = max(0, start - 1000) if start else min(1000, end)
        length = end - start + 1
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{res.size}")
        if f.ranges:
            self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", res.etag)
        self.send_header("Last-Modified", formatdate(res.mtime, usegmt=True))
        self.send_header("Content-Type", f.content_type)
        for key, value in f.headers.items():
            self.send_header(key, value)
        claimed = length // 2 if short else length + 1000 if long_ else length
        self.send_header("Content-Length", str(claimed))
        self.end_headers()
        if head:
            return
        send = min(claimed, length)
        cut_at = self.server.rng.randint(1, max(send - 1, 1)) if cut else None
        self._body(res, start, send, cut_at, stall)
        if cut_at is not None or long_:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _body(self, res: Resource, start: int, length: int, cut_at: int | None, stall: bool) -> None:
        f = res.faults
        limit = cut_at if cut_at is not None else length
        if isinstance(res.data, Path) and not (f.rate or f.shared_rate or stall or f.corrupt):
            with res.data.open("rb") as fh:
                self.connection.sendfile(fh, start, limit)
            return
        sent, began = 0, time.monotonic()
        while sent < limit:
            if stall and sent >= f.stall_after:
                time.sleep(f.stall_s)
                stall = False
            n = min(CHUNK, limit - sent, (f.stall_after - sent) if stall else CHUNK)
            if f.rate:  # pace before sending, so each connection stays under the cap
                ahead = (sent + n) / f.rate - (time.monotonic() - began)
                if ahead > 0:
                    time.sleep(ahead)
            if f.shared_rate:
                with self.server.lock:
                    slot = max(time.monotonic(), res.line_free_at)
                    res.line_free_at = slot + n / f.shared_rate
                time.sleep(max(0.0, res.line_free_at - time.monotonic()))
            chunk = res.read(start + sent, n)
            if f.corrupt and start + sent <= res.size // 2 < start + sent + n:
                i = res.size // 2 - start - sent
                chunk = chunk[:i] + bytes([chunk[i] ^ 0xFF]) + chunk[i + 1 :]
            self.wfile.write(chunk)
            sent += n


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, host: str = "127.0.0.1", seed: int = 1) -> None:
        super().__init__((host, 0), Handler)
        self.resources: dict[str, Resource] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.host = host
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (a cancel, a timeout) are part of the tests: stay quiet."""

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()

    def add(self, path: str, data: bytes | Path, faults: Faults | None = None, etag: str | None = None) -> str:
        etag = etag or f'"{abs(hash((path, self.rng.random()))):x}"'
        self.resources[path] = Resource(data, faults or Faults(), etag)
        return self.url(path)

    def add_redirect(self, path: str, to: str | list[str], headers: dict[str, str] | None = None) -> str:
        targets = [to] if isinstance(to, str) else list(to)
        self.resources[path] = Resource(b"", Faults(headers=headers or {}), '"r"', redirect=targets[0], later=targets[1:])
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.server_address[1]}{path}"

    def requests_for(self, path: str) -> list[dict[str, str]]:
        return [h for _, p, h in self.log if p.split("?")[0].endswith(path)]


def main() -> None:
    """Serve one file in its own process (for benchmarks): prints its URL, then serves until killed."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Serve a file with ranges and an optional per-connection speed cap.")
    parser.add_argument("file", type=Path)
    parser.add_argument("--rate", type=float, default=None, help="bytes per second per connection")
    args = parser.parse_args()
    server = FaultServer()
    url = server.add("/" + args.file.name, args.file.resolve(), Faults(rate=args.rate), etag='"bench"')
    sys.stdout.write(url + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
