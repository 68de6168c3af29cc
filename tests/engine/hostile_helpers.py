"""Talking to a real engine over HTTP the way a hostile page or client would: any Host, Origin,
Content-Type or body, raw sockets that hang up, and image files built to hurt."""

from __future__ import annotations

import base64
import copy
import dataclasses
import http.client
import io
import json
import socket
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from PIL import Image

from engine.server.app import ServerThread, create_app
from tests.engine.server_helpers import Engine


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Server:
    """A real uvicorn server on 127.0.0.1: ``port``, ``base`` and ``host`` (the Host it answers)."""

    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | str | dict[str, Any] | list[Any] | None = None,
                headers: dict[str, str] | None = None, host: str | None = None, timeout: float = 120) -> Reply:
        """One request; ``host`` replaces the Host header (None: the right one); a dict body is JSON."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data, sent = _body(body, dict(headers or {}))
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            if host != "":
                conn.putheader("Host", host if host is not None else self.host)
            for name, value in sent.items():
                conn.putheader(name, value)
            if data is not None and not any(k.lower() in ("transfer-encoding", "content-length") for k in sent):
                conn.putheader("Content-Length", str(len(data)))
            conn.endheaders(data)
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, {} if body is None else body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def open_socket(self, method: str, path: str, body: dict[str, Any]) -> socket.socket:
        """Send a JSON request on a raw socket and leave it open (close it to hang up)."""
        data = json.dumps(body).encode()
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        sock.sendall(head + data)
        return sock


def _body(body: Any, headers: dict[str, str]) -> tuple[bytes | None, dict[str, str]]:
    if body is None:
        return None, headers
    if isinstance(body, dict | list):
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(body).encode(), headers
    return (body.encode("utf-8") if isinstance(body, str) else body), headers


@contextmanager
def serve(app: Any) -> Iterator[Server]:
    """``app`` behind a real uvicorn server on a free local port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY then
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = ServerThread(app, sock)
    server.start()
    try:
        yield Server(sock.getsockname()[1])
    finally:
        server.stop(3)


def server_fixture() -> Any:
    """A module-scoped ``server`` fixture: the module's ``engine`` fixture behind ``serve``.

    A test module assigns it: ``server = server_fixture()``.
    """

    @pytest.fixture(scope="module")
    def server(engine: Engine) -> Iterator[Server]:
        with serve(engine.client.app) as srv:
            yield srv

    return server


def app_for(engine: Engine, **changes: Any) -> Any:
    """A new app on the same running engine (worker, models) with its configuration changed."""
    service = copy.copy(engine.service)
    service.config = dataclasses.replace(engine.service.config, **changes)
    return create_app(service)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def image_bytes(fmt: str, size: tuple[int, int] = (64, 64), mode: str = "RGB", color: Any = "red") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format=fmt)
    return buf.getvalue()


def one_bit_png(side: int = 4096) -> bytes:
    """A 1-bit PNG of ``side`` x ``side``: a few kilobytes that decode to ``side``² pixels."""
    return image_bytes("PNG", (side, side), "1", 0)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_chunk(kind: bytes, data: bytes, before_image: bool = True) -> bytes:
    """A small PNG with one extra chunk, before or after the image data."""
    png = image_bytes("PNG", (8, 8))
    iend = png.rindex(b"IEND") - 4
    idat = png.index(b"IDAT") - 4
    at = idat if before_image else iend
    return png[:at] + _chunk(kind, data) + png[at:]


def ztxt_bomb_png(megabytes: int = 50) -> bytes:
    """A PNG whose zTXt chunk inflates to ``megabytes`` MB (it is about 50 KB on the wire)."""
    text = zlib.compress(b"a" * (megabytes * 1024 * 1024), 9)
    return png_with_chunk(b"zTXt", b"parameters\x00\x00" + text)


def huge_header_png(side: int = 30000) -> bytes:
    """A PNG header claiming ``side`` x ``side`` pixels, with hardly any data."""
    png = image_bytes("PNG", (8, 8))
    start = png.index(b"IHDR") - 4
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return png[:start] + _chunk(b"IHDR", ihdr) + png[start + 25 :]


def eps_bytes() -> bytes:
    """A minimal Encapsulated PostScript file (opening it would need Ghostscript)."""
    return (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n%%EndComments\n"
            b"newpath 0 0 moveto 64 64 lineto stroke\nshowpage\n%%EOF\n")
