"""One launcher at a time: a second launch asks the first to come forward, then leaves.

The first launcher listens with a QLocalServer. On Linux and macOS its name is an absolute path to
a Unix socket, so a later launch can ask through Python's own ``socket`` before it has loaded
QtNetwork (the window of the first launch must not wait for that); on Windows the ask uses
QLocalSocket (a named pipe).
"""

from __future__ import annotations

import getpass
import logging
import os
import sys
import zlib
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalSocket

log = logging.getLogger(__name__)

MESSAGE = b"show\n"


def server_name(home: str) -> str:
    """A name unique to this user and data home (two homes may run side by side)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "user"
    key = f"{user}|{home}".encode()
    digest = f"{zlib.crc32(key):08x}{zlib.adler32(key):08x}"  # zlib: no OpenSSL load before the window
    name = f"maple-launcher-{digest}"
    if sys.platform == "win32":
        return name
    folder = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp"
    return os.path.join(folder, name)


def ask_running_instance(name: str, timeout_ms: int = 500) -> bool:
    """True when a launcher already listens on ``name`` and was told to show itself."""
    if os.name != "nt":  # (not sys.platform: mypy would call the Windows branch unreachable)
        return _ask_unix(name, timeout_ms / 1000)
    from PySide6.QtNetwork import QLocalSocket

    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(MESSAGE)
    sock.flush()
    sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    return True


def _ask_unix(path: str, timeout: float) -> bool:
    if not os.path.exists(path):
        return False
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
            sock.sendall(MESSAGE)
        except OSError:
            return False  # a stale socket file from a launcher that crashed
    return True


class SingleInstance(QObject):
    """Listens for later launches; ``activated`` fires when one asks this window to show."""

    activated = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        from PySide6.QtNetwork import QLocalServer

        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._on_connection)

    def listen(self) -> bool:
        from PySide6.QtNetwork import QLocalServer

        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)  # a stale socket left by a crashed launcher
        ok = self.server.listen(self.name)
        if not ok:
            log.warning("single-instance server not available: %s", self.server.errorString())
        return ok

    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            sock = self.server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        if bytes(sock.readAll().data()).startswith(MESSAGE.strip()):
            self.activated.emit()

    def close(self) -> None:
        self.server.close()
