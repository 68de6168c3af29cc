"""Ctrl-C and SIGTERM stop the whole of Maple, in the window and in the terminal.

Python runs its signal handlers only between bytecodes, and Qt's event loop runs in C++: without a
wake-up, a Ctrl-C waits until the next Python slot (with ``QT_QPA_PLATFORM=offscreen`` that can be
never). :func:`install_for_qt` gives the loop that wake-up: the C-level handler writes the signal
number to a socket (``signal.set_wakeup_fd``) and a ``QSocketNotifier`` on its other end makes the
loop run a Python slot at once, so the handler runs. The first signal asks for a clean stop; later
ones are only logged, since the stop is already on its way and has its own time limits. Once a stop
was asked for, putting the handlers away ignores the stop signals to the end of the process: a second
Ctrl-C arriving while Maple finishes (Python resets its own handlers to the default as it exits)
would otherwise end it by the signal, without its clean-up and with a failing exit code.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

STOP_SIGNALS = tuple(sig for sig in (getattr(signal, name, None) for name in ("SIGINT", "SIGTERM", "SIGBREAK"))
                     if sig is not None)


class StopRequest:
    """A signal handler that calls ``on_stop`` for the first signal and only logs the later ones."""

    def __init__(self, on_stop: Callable[[int], None]) -> None:
        self.on_stop = on_stop
        self.received: list[int] = []

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        if len(self.received) == 1:
            log.info("signal %d: stopping Maple", signum)
            self.on_stop(signum)
        else:
            log.info("signal %d again: Maple is already stopping", signum)


def _raise_interrupt(_signum: int) -> None:
    raise KeyboardInterrupt


@contextmanager
def interrupt_on_stop_signals() -> Iterator[StopRequest]:
    """For the terminal start: SIGTERM (and Ctrl-Break) raise ``KeyboardInterrupt`` like Ctrl-C does,
    once; the stop that follows is not interrupted by a second one."""
    handler = StopRequest(_raise_interrupt)
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield handler
    finally:
        _restore(handler, previous)


def _restore(handler: StopRequest, previous: dict[int, Any]) -> None:
    """Put the previous handlers back, unless a stop is under way: then the stop signals are ignored."""
    for sig, old in previous.items():
        signal.signal(sig, signal.SIG_IGN if handler.received else old)


class QtStopSignals:
    """What :func:`install_for_qt` set up; ``close()`` puts the previous handlers back."""

    def __init__(self, handler: StopRequest, previous: dict[int, Any], keep: list[Any]) -> None:
        self.handler = handler
        self.previous = previous
        self._keep = keep  # the sockets and the notifier (or timer) live as long as this object

    def close(self) -> None:
        _restore(self.handler, self.previous)
        with contextlib.suppress(ValueError):  # not the main thread
            signal.set_wakeup_fd(-1)
        for item in self._keep:
            closer = getattr(item, "close", None) or getattr(item, "stop", None)
            if callable(closer):
                closer()


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(512):
            pass
    except OSError:  # nothing more to read (non-blocking)
        pass


def _wake_up(parent: Any) -> list[Any]:
    """A socket pair whose reading end wakes Qt's loop when a signal arrives (a timer if that fails)."""
    from PySide6.QtCore import QSocketNotifier, QTimer

    try:
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except (OSError, ValueError) as exc:
        log.info("no wake-up socket for signals (%s); polling instead", exc)
        timer = QTimer(parent)
        timer.timeout.connect(lambda: None)  # a Python slot: pending handlers run
        timer.start(200)
        return [timer]
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, parent)
    notifier.activated.connect(lambda *_: _drain(reader))
    return [notifier, reader, writer]


def install_for_qt(parent: Any, on_stop: Callable[[int], None]) -> QtStopSignals:
    """Make Ctrl-C / SIGTERM call ``on_stop(signum)`` from Qt's event loop (GUI thread), once."""
    from PySide6.QtCore import QTimer

    handler = StopRequest(lambda signum: QTimer.singleShot(0, lambda: on_stop(signum)))
    keep = _wake_up(parent)
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    return QtStopSignals(handler, previous, keep)
