"""Choosing the engine's port before it starts, off the GUI thread: the one in settings, the next
free one, or a Maple engine already serving there (the user is asked). Used by
:class:`~launcher.engine.process.EngineProcess`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from launcher import workers
from launcher.engine import command as engine_command
from launcher.i18n import tr


def plan_port(wanted: int, home: Path, on_done: Callable[[engine_command.PortPlan], None],
              on_failed: Callable[[], None], auth: str = "") -> None:
    """Plan the port in a worker; ``on_done(plan)`` or ``on_failed()`` then runs on the GUI thread."""
    workers.submit(lambda _p, _c: engine_command.plan_port(wanted, home, auth), on_done=on_done,
                   on_error=lambda _exc: on_failed(), name="plan-port")


def free_port_after(wanted: int, on_done: Callable[[int], None], on_failed: Callable[[], None]) -> None:
    """Find the next free port after ``wanted`` in a worker (the user chose not to use the engine there)."""
    from installer.machine.ports import next_free_port

    workers.submit(lambda _p, _c: next_free_port(wanted + 1), on_done=on_done,
                   on_error=lambda _exc: on_failed(), name="free-port")


def attached_notice(url: str) -> str:
    """The sentence that says this data home's engine was already running and is used."""
    return tr("Maple's engine for this data folder is already running at {url}; using it.").replace("{url}", url)


def moved_notice(plan: engine_command.PortPlan) -> str:
    """The sentence that says the engine will use another port than the one in settings, and why."""
    return (tr("Port {wanted} is used by {owner}; the engine will use port {port}.")
            .replace("{wanted}", str(plan.wanted))
            .replace("{owner}", plan.owner or tr("another program"))
            .replace("{port}", str(plan.port)))
