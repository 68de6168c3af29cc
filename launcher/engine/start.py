"""Choosing the engine's port before it starts: the one in settings, the next free one, or a Maple
engine already serving there (the user is asked). Mixed into :class:`~launcher.engine.process.EngineProcess`.
"""

from __future__ import annotations

from typing import Any

from installer.settings import Settings
from launcher import workers
from launcher.engine import command as engine_command
from launcher.engine.state import EngineState
from launcher.i18n import tr


class PortChoice:
    # what EngineProcess provides
    state: EngineState
    port: int
    url: str
    restarts: int
    _settings: Settings
    _check_args: list[str]
    port_busy: Any  # Signal(PortPlan)
    notice: Any  # Signal(str)
    ready: Any  # Signal(str)

    def _set_state(self, state: EngineState) -> None:
        raise NotImplementedError

    def _launch(self, port: int) -> None:
        raise NotImplementedError

    def _crash(self, exit_code: int, startup_failed: bool = False) -> None:
        raise NotImplementedError

    def start(self, settings: Settings, check_args: list[str] | None = None) -> None:
        """Decide the port off the GUI thread, then start (or offer the engine already there)."""
        if self.state in (EngineState.STARTING, EngineState.RUNNING, EngineState.STOPPING):
            return
        self._settings = settings
        self._check_args = list(check_args or [])
        self.restarts = 0
        self._set_state(EngineState.STARTING)
        wanted = settings.port
        workers.submit(
            lambda _p, _c: engine_command.plan_port(wanted),
            on_done=self._port_planned,
            on_error=lambda exc: self._launch(wanted),
            name="plan-port",
        )

    def _port_planned(self, plan: engine_command.PortPlan) -> None:
        if self.state is not EngineState.STARTING:
            return
        if plan.existing is not None:
            self._set_state(EngineState.STOPPED)
            self.port_busy.emit(plan)
            return
        if plan.moved:
            self.notice.emit(
                tr("Port {wanted} is used by {owner}; the engine will use port {port}.")
                .replace("{wanted}", str(plan.wanted))
                .replace("{owner}", plan.owner or tr("another program"))
                .replace("{port}", str(plan.port))
            )
        self._launch(plan.port)

    def use_existing(self, port: int) -> None:
        """Use a Maple engine that already serves on ``port`` instead of starting one."""
        self.port = port
        self.url = engine_command.local_url(port)
        self._set_state(EngineState.EXTERNAL)
        self.ready.emit(self.url)

    def start_elsewhere(self, wanted: int) -> None:
        """Start on the next free port after ``wanted`` (the user chose not to use the engine there)."""
        from installer.machine.ports import next_free_port

        self._set_state(EngineState.STARTING)
        workers.submit(lambda _p, _c: next_free_port(wanted + 1), on_done=self._launch,
                       on_error=lambda exc: self._crash(-1), name="free-port")
