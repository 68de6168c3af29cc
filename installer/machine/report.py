"""The machine check: probe, judge, recommend. ``check()`` is what the launcher and ``maple-doctor`` call.

Fast (no torch import, NVML only), and it never raises for what it finds: a missing driver, an
NVML error or an unreadable setting becomes a finding.
"""

from __future__ import annotations

import functools
import logging
import os
import platform as platform_mod
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer import running_engine
from installer.contract import DEFAULT_PORT
from installer.home import Home
from installer.machine import gpu as machine_gpu
from installer.machine import longpaths, ports
from installer.machine import probes as mp
from installer.machine.adapters import Adapter, probe_adapters
from installer.machine.result import MachineReport
from installer.machine.verdicts import judge, recommend
from installer.running_engine import RunningEngine

__all__ = ["MachineReport", "Probes", "check", "default_probes", "gather", "probe_port"]

log = logging.getLogger(__name__)


def probe_port(port: int, auth: str = "") -> mp.PortInfo:
    """Free or not; if not, who holds it, the next free one, and the data home of a Maple engine there.

    ``auth`` is the ``user:password`` of ``--api-auth``, for an engine that asks for it."""
    if not ports.port_in_use(port):
        return mp.PortInfo(port, False)
    try:
        free: int | None = ports.next_free_port(port + 1)
    except ports.NoFreePortError:
        free = None
    info = running_engine.ask_info(port, auth=auth)
    maple_home = str(info["home"]) if info is not None and info.get("home") else None
    return mp.PortInfo(port, True, ports.port_owner(port), free, maple_home)


@dataclass(frozen=True)
class Probes:
    """Where the facts come from. Tests replace any field; ``None`` means the real thing."""

    nvml: Any = None  # a pynvml-like module
    psutil: Any = None  # a psutil-like module
    torch: Callable[[], mp.TorchInfo] = mp.probe_torch
    cpu_model: Callable[[], str] | None = None
    long_paths: Callable[[], longpaths.LongPaths] = longpaths.long_paths_state
    port: Callable[[int], mp.PortInfo] = probe_port
    platform: str = sys.platform
    arch: str = field(default_factory=platform_mod.machine)
    python: Callable[[], str] = mp.python_version
    adapters: Callable[[], tuple[Adapter, ...]] = probe_adapters
    engine: Callable[[Path], RunningEngine | None] = running_engine.find  # this home's engine, if running


def default_probes(auth: str = "") -> Probes:
    """The real probes; the ones that ask an engine send ``auth`` (``--api-auth``'s ``user:password``)."""
    if not auth:
        return Probes()
    return Probes(port=functools.partial(probe_port, auth=auth), engine=functools.partial(running_engine.find, auth=auth))


def gather(root: Path, probes: Probes, port: int) -> mp.MachineFacts:
    cpu = mp.probe_cpu(probes.psutil)
    if probes.cpu_model is not None:
        cpu = mp.CpuInfo(probes.cpu_model(), cpu.cores, cpu.threads)
    return mp.MachineFacts(
        platform=probes.platform,
        arch=probes.arch,
        python=probes.python(),
        home=str(root),
        nvml=machine_gpu.probe_nvml(probes.nvml),
        memory=mp.probe_memory(probes.psutil),
        disk=mp.probe_disk(root, probes.psutil),
        cpu=cpu,
        torch=probes.torch(),
        long_paths=probes.long_paths(),
        port=probes.port(port),
        adapters=probes.adapters(),
        engine=probes.engine(root),
    )


def check(home: Home | Path | str | os.PathLike[str], *, probes: Probes | None = None, port: int = DEFAULT_PORT,
          auth: str = "") -> MachineReport:
    """Check this machine for running Maple with its data in ``home`` (which need not exist yet).

    ``auth``: the ``user:password`` an engine started with ``--api-auth`` asks for (unused with ``probes``)."""
    root = home.root if isinstance(home, Home) else Path(home)
    facts = gather(root.absolute(), probes or default_probes(auth), port)
    report = MachineReport(facts, judge(facts), recommend(facts))
    log.info("machine check: %d blocker(s), %d warning(s)", len(report.blockers), len(report.warnings))
    return report
