"""The decision's input, from the machine check's facts or from a quick probe of its own.

The quick probe reads NVML and the display adapters only (no psutil, no pydantic), so the set-up
scripts can ask which PyTorch index to use before anything else is installed.
"""

from __future__ import annotations

import platform as platform_mod
import sys
from typing import Any

from installer.engine_install.choice import EngineMachine, Gpu
from installer.machine.adapters import Adapter, probe_adapters
from installer.machine.gpu import NvmlInfo, probe_nvml


def engine_machine(platform: str, arch: str, nvml: NvmlInfo, adapters: tuple[Adapter, ...] = ()) -> EngineMachine:
    """NVIDIA cards as NVML sees them first, then every other adapter (an NVIDIA one only when
    NVML does not answer: a card without a working driver)."""
    gpus: list[Gpu] = []
    if nvml.status == "ok":
        gpus += [Gpu(g.name, "nvidia", g.compute_capability) for g in nvml.gpus]
    for adapter in adapters:
        if adapter.vendor != "nvidia" or nvml.status != "ok":
            gpus.append(Gpu(adapter.name, adapter.vendor))
    ok = nvml.status == "ok"
    return EngineMachine(platform, arch, tuple(gpus), nvml.driver_version if ok else None,
                         nvml.cuda_version if ok else None)


def from_facts(facts: Any) -> EngineMachine:
    """From :class:`installer.machine.probes.MachineFacts`."""
    return engine_machine(facts.platform, facts.arch, facts.nvml, tuple(getattr(facts, "adapters", ())))


def probe(nvml: Any = None) -> EngineMachine:
    return engine_machine(sys.platform, platform_mod.machine(), probe_nvml(nvml), probe_adapters())
