"""The QProcess under the engine: making it, cutting its output into lines, ending its whole tree."""

from __future__ import annotations

import codecs
import sys

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment

from launcher.engine import command as engine_command
from launcher.engine import proctree


class LineBuffer:
    """Bytes in, complete lines out: a character or a line split between two reads stays whole."""

    def __init__(self) -> None:
        self.partial = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> list[str]:
        text = self.partial + self._decoder.decode(data).replace("\r\n", "\n").replace("\r", "\n")
        *complete, self.partial = text.split("\n")
        return complete

    def take_rest(self) -> list[str]:
        """The last line when the output ended without a newline."""
        rest, self.partial = self.partial, ""
        return [rest] if rest else []


def new_process(parent: QObject) -> QProcess:
    """A QProcess with stdout and stderr merged and Python's output unbuffered, in UTF-8."""
    proc = QProcess(parent)
    proc.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
    env = QProcessEnvironment.systemEnvironment()
    env.insert("PYTHONUNBUFFERED", "1")
    env.insert("PYTHONIOENCODING", "utf-8")
    proc.setProcessEnvironment(env)
    _own_session(proc)
    return proc


def _own_session(proc: QProcess) -> None:
    """On Unix the engine gets its own session: a Ctrl-C in Maple's terminal reaches Maple only, which
    then stops the engine in order (the engine would otherwise leave by itself and look crashed)."""
    if sys.platform == "win32" or not hasattr(proc, "setUnixProcessParameters"):
        return
    flag = QProcess.UnixProcessFlag.CreateNewSession
    proc.setUnixProcessParameters(flag)


def end_blocking(proc: QProcess, port: int, timeout_ms: int) -> None:
    """Ask the engine to leave, wait a little, then end its whole tree (children it left included)."""
    pid = int(proc.processId())
    family = [p.pid for p in proctree.tree(pid)]
    proc.closeWriteChannel()
    engine_command.request_shutdown(port, 1.0)
    if not proc.waitForFinished(timeout_ms):
        proctree.kill_tree(pid, timeout=2.0)
        proc.waitForFinished(2000)
    for left in proctree.alive(family):
        proctree.kill_tree(left, timeout=1.0)
