"""The engine as a child process of the window: choose its port, start, watch, stop, crash, restart.

The engine runs under a QProcess (stdout and stderr merged); its console lines go out in batches
through ``lines``. The state moves stopped -> starting -> running (the engine's one machine-readable
ready line seen, see :mod:`installer.contract`) -> stopping -> stopped, or to crashed when it exits
on its own. The port is planned off the GUI thread (:mod:`launcher.engine.start`); a Maple engine
already serving there is offered instead. Stop asks ``/maple/v1/shutdown`` first and then ends the
whole process tree; the QProcess itself is made, read and ended with :mod:`launcher.engine.io`.
"""

from __future__ import annotations

import collections
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from installer import running_engine
from installer.contract import is_ready_line, read_ready_line
from installer.settings import Settings
from launcher import workers
from launcher.engine import command as engine_command
from launcher.engine import console_lines, proctree, start
from launcher.engine.diagnosis import diagnose
from launcher.engine.io import LineBuffer, end_blocking, new_process
from launcher.engine.state import CrashInfo, EngineState

__all__ = ["CrashInfo", "EngineProcess", "EngineState"]

log = logging.getLogger(__name__)

KEEP_LAST = 300  # lines kept for the crash report
STOP_GRACE_MS = 6000
MAX_RESTARTS = 3


class EngineProcess(QObject):
    state_changed = Signal(object)  # EngineState
    lines = Signal(list)  # a batch of console lines
    ready = Signal(str)  # the URL, when the engine says it can serve
    crashed = Signal(object)  # CrashInfo
    port_busy = Signal(object)  # PortPlan with .existing: a Maple engine already serves there
    notice = Signal(str)  # a sentence for the user (port moved, ...)

    def __init__(self, home: Path, program: list[str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.home = home
        self.program = program or engine_command.engine_program()
        self.state = EngineState.STOPPED
        self.url = ""
        self.port = 0
        self.startup_seconds: float | None = None
        self.tail: collections.deque[str] = collections.deque(maxlen=KEEP_LAST)
        self.restarts = 0
        self._proc: QProcess | None = None
        self._output = LineBuffer()
        self._settings = Settings()
        self._check_args: list[str] = []
        self._closing = False  # set at quit: nothing starts any more
        self._start_failed = False
        self._kill_timer = QTimer(self, singleShot=True, interval=STOP_GRACE_MS)
        self._kill_timer.timeout.connect(self._kill_now)

    # -- starting ---------------------------------------------------------------------------
    def start(self, settings: Settings, check_args: list[str] | None = None) -> None:
        """Decide the port off the GUI thread, then start (or offer the engine already there)."""
        if self.state in (EngineState.STARTING, EngineState.RUNNING, EngineState.STOPPING):
            return
        self._settings = settings
        self._check_args = list(check_args or [])
        self.restarts = 0
        self._set_state(EngineState.STARTING)
        wanted = settings.port
        start.plan_port(wanted, self.home, on_done=self._port_planned, on_failed=lambda: self._launch(wanted),
                        auth=settings.api_auth)

    def _port_planned(self, plan: engine_command.PortPlan) -> None:
        if self.state is not EngineState.STARTING:
            return
        if plan.existing is not None and plan.mine:  # this home's engine: one Maple per data home
            self.use_existing(plan.port)
            self.notice.emit(start.attached_notice(self.url))
            return
        if plan.existing is not None:
            self._set_state(EngineState.STOPPED)
            self.port_busy.emit(plan)
            return
        if plan.moved:
            self.notice.emit(start.moved_notice(plan))
        self._launch(plan.port)

    def use_existing(self, port: int) -> None:
        """Use a Maple engine that already serves on ``port`` instead of starting one."""
        self.port = port
        self.url = engine_command.local_url(port)
        self._set_state(EngineState.EXTERNAL)
        self.ready.emit(self.url)

    def start_elsewhere(self, wanted: int) -> None:
        """Start on the next free port after ``wanted`` (the user chose not to use the engine there)."""
        self._set_state(EngineState.STARTING)
        start.free_port_after(wanted, on_done=self._launch, on_failed=lambda: self._crash(-1))

    def _launch(self, port: int) -> None:
        if self._closing or self.state is not EngineState.STARTING:
            return  # quitting, or the start was called off meanwhile
        self.port = port
        self.url = ""
        self.startup_seconds = None
        self._output = LineBuffer()
        args = engine_command.engine_args(
            self._settings, self.home, port, self._check_args, parent_pid=os.getpid()
        )
        proc = new_process(self)
        proc.readyReadStandardOutput.connect(self._read)
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self._proc = proc
        shown = engine_command.shown_command([*self.program, *args])
        self._emit_lines([f"[maple] {shown}"])
        proc.start(self.program[0], [*self.program[1:], *args])

    # -- output -----------------------------------------------------------------------------
    def _read(self) -> None:
        if self._proc is None:
            return
        complete = self._output.feed(bytes(self._proc.readAllStandardOutput().data()))
        if complete:
            self._emit_lines(complete)

    def _emit_lines(self, batch: list[str]) -> None:
        if self.state is EngineState.STARTING:
            for line in batch:
                self._watch(line)
            batch = [line for line in batch if not is_ready_line(line)]  # for Maple, not for people
        self.tail.extend(batch)
        if batch:
            self.lines.emit(batch)

    def _watch(self, line: str) -> None:
        if console_lines.startup_failed(line):
            self._start_failed = True
            self.stop()
            return
        ready = read_ready_line(line)
        if ready is not None and self.state is EngineState.STARTING:
            self.url, self.startup_seconds = ready.url, ready.startup_time
            self._set_state(EngineState.RUNNING)
            self.ready.emit(self.url)

    # -- stopping ---------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the engine to leave; end its process tree if it has not gone in a few seconds."""
        if self.state is EngineState.EXTERNAL or (self._proc is None and self.state is EngineState.STARTING):
            self._set_state(EngineState.STOPPED)  # nothing of ours runs (yet): the start is called off
            return
        if self._proc is None or self.state is EngineState.STOPPING:
            return
        self._set_state(EngineState.STOPPING)
        self._proc.closeWriteChannel()  # the engine also stops when its input closes
        port = self.port
        workers.submit(lambda _p, _c: engine_command.request_shutdown(port, 1.5), name="shutdown")
        self._kill_timer.start()

    def rescan_models(self) -> None:
        """Ask a running engine to list the model folders again (the shared folders changed)."""
        if self.state in (EngineState.RUNNING, EngineState.EXTERNAL) and self.port:
            port, auth = self.port, self._settings.api_auth
            workers.submit(lambda _p, _c: running_engine.request_refresh(port, auth=auth), name="rescan-models")

    def _kill_now(self) -> None:
        if self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning:
            proctree.kill_tree(int(self._proc.processId()), timeout=2.0)

    def shutdown_blocking(self, timeout_ms: int = 4000) -> None:
        """At quit: ask, wait a little, then end the whole tree. Leaves no engine behind."""
        self._closing = True
        proc = self._proc
        if proc is None or proc.state() == QProcess.ProcessState.NotRunning:
            return
        self._set_state(EngineState.STOPPING)
        end_blocking(proc, self.port, timeout_ms)

    def pids(self) -> list[int]:
        if self._proc is None or self._proc.state() == QProcess.ProcessState.NotRunning:
            return []
        return [p.pid for p in proctree.tree(int(self._proc.processId()))]

    # -- endings ----------------------------------------------------------------------------
    def _finished(self, exit_code: int, _status: QProcess.ExitStatus) -> None:
        self._read()
        rest = self._output.take_rest()
        if rest:
            self._emit_lines(rest)
        self._kill_timer.stop()
        if self._proc is not None:
            # the engine may have left children behind (e.g. a compile worker)
            self._proc.deleteLater()
            self._proc = None
        if self._start_failed:
            self._start_failed = False
            self._crash(exit_code, startup_failed=True)
            return
        if self.state is EngineState.STOPPING:
            self._set_state(EngineState.STOPPED)
            return
        self._crash(exit_code)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._emit_lines([f"[maple] could not start the engine: {self.program[0]}"])
            self._proc = None
            self._crash(-1)

    def _crash(self, exit_code: int, startup_failed: bool = False) -> None:
        last = list(self.tail)[-40:]
        restarting = (self._settings.restart_on_crash and self.restarts < MAX_RESTARTS
                      and exit_code != -1 and not startup_failed)  # a failed start would fail again
        info = CrashInfo(exit_code, last, diagnose(self.tail), restarting, startup_failed)
        self._set_state(EngineState.CRASHED)
        self.crashed.emit(info)
        if restarting:
            self.restarts += 1
            QTimer.singleShot(1500, self._restart)

    def _restart(self) -> None:
        if self.state is EngineState.CRASHED and not self._closing:
            self._set_state(EngineState.STARTING)
            self._launch(self.port)

    def restart(self) -> None:
        """Start again after a crash with the same settings."""
        if self.state in (EngineState.CRASHED, EngineState.STOPPED):
            self._set_state(EngineState.STARTING)
            self._launch(self.port or self._settings.port)

    def _set_state(self, state: EngineState) -> None:
        if state is not self.state:
            self.state = state
            self.state_changed.emit(state)
