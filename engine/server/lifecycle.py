"""Staying alive only as long as wanted: the parent watch, stdin watch and signal handlers.

Each sets one ``threading.Event``; the main thread waits on it and then shuts down cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import stat
import sys
import threading
from types import FrameType

log = logging.getLogger(__name__)

POLL_S = 0.5


def _alive(pid: int) -> bool:
    import psutil

    try:
        proc = psutil.Process(pid)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def watch_parent(pid: int, stop: threading.Event) -> threading.Thread:
    """Set ``stop`` once process ``pid`` is gone."""

    def run() -> None:
        while not stop.wait(POLL_S):
            if not _alive(pid):
                log.info("The launcher (pid %d) has gone; stopping the engine.", pid)
                stop.set()
                return

    thread = threading.Thread(target=run, name="maple-parent-watch", daemon=True)
    thread.start()
    return thread


def stdin_is_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def watch_stdin(stop: threading.Event) -> threading.Thread | None:
    """When started by the launcher with a pipe as stdin, set ``stop`` once the other end closes it."""
    if not stdin_is_pipe():
        return None

    def run() -> None:
        try:
            while os.read(sys.stdin.fileno(), 4096):
                pass
        except (OSError, ValueError):
            pass
        if not stop.is_set():
            log.info("The launcher closed the engine's input; stopping the engine.")
            stop.set()

    thread = threading.Thread(target=run, name="maple-stdin-watch", daemon=True)
    thread.start()
    return thread


def install_signal_handlers(stop: threading.Event) -> None:
    """Ctrl-C and SIGTERM (and Ctrl-Break on Windows) ask for a clean stop; a second one forces it."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("Stopping now.")
            os._exit(130)
        log.info("Stopping the engine (signal %d)...", signum)
        stop.set()

    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, handle)
