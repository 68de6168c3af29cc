"""Is a TCP port free, who holds it, and which is the next free one.

The launcher and the engine use these before binding the engine's port (7860 by default).
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

from installer.errors import MapleError

log = logging.getLogger(__name__)


class NoFreePortError(MapleError):
    code = "no-free-port"
    default_hint = "Close the programs using these ports, or choose another port in the settings."


def _bind_test(port: int, host: str) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if sys.platform == "win32":
            # Without this, Windows lets a second socket bind beside a listening one.
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", 0), 1)
        else:
            # What servers such as uvicorn set: a port in TIME_WAIT is still usable.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could not bind ``host:port`` now."""
    return not _bind_test(port, host)


def next_free_port(start: int, host: str = "127.0.0.1", tries: int = 100) -> int:
    """The first port from ``start`` on that is free; raises :class:`NoFreePortError` if none of ``tries``."""
    last = min(start + tries, 65536)
    for port in range(start, last):
        if not port_in_use(port, host):
            return port
    raise NoFreePortError(f"No free port between {start} and {last - 1}")


def _listener_pid(port: int, ps: Any) -> int | None:
    for conn in ps.net_connections(kind="tcp"):
        laddr = conn.laddr
        if laddr and laddr.port == port and conn.status == ps.CONN_LISTEN and conn.pid:
            return int(conn.pid)
    return None


def port_owner(port: int, ps: Any = None) -> str | None:
    """``"name (pid N)"`` of the process listening on ``port``, None when that cannot be known.

    Other users' processes (and, on macOS, any process without admin rights) stay unknown.
    """
    if ps is None:
        import psutil as ps
    try:
        pid = _listener_pid(port, ps)
        if pid is None:
            return None
        return f"{ps.Process(pid).name()} (pid {pid})"
    except (ps.Error, OSError) as exc:
        log.debug("owner of port %s not readable: %s", port, exc)
        return None
