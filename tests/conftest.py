"""Shared test set-up: Qt offscreen, every test's own data home, and local HTTP servers.

``server`` is the download tests' fault-injecting server (tests/installer/fault_server.py);
``serving`` runs any other local ``http.server`` for the length of a ``with`` block; ``free_port``
is a port nothing listens on.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    from tests.installer.fault_server import FaultServer

AnyServer = TypeVar("AnyServer", bound=ThreadingHTTPServer)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def home(tmp_path: Path):
    from installer.home import Home

    return Home(tmp_path / "home").ensure()


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(httpd: AnyServer) -> Iterator[AnyServer]:
    """Serve ``httpd`` in a thread for the ``with`` block, then stop it and close its socket."""
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """The local download server with ranges, ETags and faults chosen per file."""
    from tests.installer.fault_server import FaultServer

    with FaultServer() as srv:
        yield srv
