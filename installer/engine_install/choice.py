"""Which PyTorch build this machine gets: a pure decision table over the machine check's facts.

Input: the platform, the first NVIDIA card (name, compute capability), the newest CUDA version
its driver runs (NVML's ``nvmlSystemGetCudaDriverVersion``) and any other display adapters.
Output: a :class:`Choice` naming the build, why, and whether the user must agree first (a CPU
build on a machine with a GPU is never installed silently). The table rows are in
:mod:`installer.engine_install.builds` with their sources.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from installer.engine_install.arch import build_runs_on, capability_text
from installer.engine_install.builds import (
    CPU,
    TORCH_VERSION,
    TORCHVISION_VERSION,
    Capability,
    TorchBuild,
    builds_for,
    cuda_tuple,
    min_driver,
)

DEFAULT_BUILD = TorchBuild("", None)  # the package index's own torch (macOS: CPU + Metal)


@dataclass(frozen=True)
class Gpu:
    name: str
    vendor: str  # "nvidia", "amd", "intel", "other"
    capability: Capability | None = None  # NVIDIA only


@dataclass(frozen=True)
class EngineMachine:
    """What the decision needs to know. ``driver_cuda`` is None when there is no NVIDIA driver."""

    platform: str  # sys.platform: "win32", "linux", "darwin"
    arch: str  # platform.machine(): "AMD64", "x86_64", "arm64", ...
    gpus: tuple[Gpu, ...] = ()
    driver: str | None = None
    driver_cuda: str | None = None

    @property
    def nvidia(self) -> Gpu | None:
        return next((g for g in self.gpus if g.vendor == "nvidia"), None)

    def others(self, vendor: str) -> list[Gpu]:
        return [g for g in self.gpus if g.vendor == vendor]


class Outcome(enum.Enum):
    GPU = "gpu"  # a CUDA build for the NVIDIA card
    CPU = "cpu"  # no GPU Maple can use: the CPU build (slow)
    BLOCKED = "blocked"  # an NVIDIA card no build can use as things are: fix first, or choose CPU


@dataclass(frozen=True)
class Choice:
    outcome: Outcome
    build: TorchBuild  # for BLOCKED, the CPU build the user may choose instead
    key: str  # the reason, a key of installer.engine_install.texts
    params: Mapping[str, object] = field(default_factory=dict)
    needs_consent: bool = False  # ask before installing (a GPU is there and will not be used)

    @property
    def slow(self) -> bool:
        """Generation runs on the CPU (minutes per image); the home page says so."""
        return self.outcome is not Outcome.GPU and self.key != "cpu.mac"

    @property
    def torch_requirement(self) -> str:
        return _pin("torch", TORCH_VERSION, self.build)

    @property
    def torchvision_requirement(self) -> str:
        return _pin("torchvision", TORCHVISION_VERSION, self.build)


def _pin(name: str, version: str, build: TorchBuild) -> str:
    return f"{name}=={version}+{build.variant}" if build.variant else f"{name}=={version}"


def cpu_build(platform: str) -> TorchBuild:
    """Linux gets PyTorch's ``+cpu`` build (the default index's Linux torch is the CUDA one)."""
    return CPU if platform.startswith("linux") else DEFAULT_BUILD


def choose(machine: EngineMachine) -> Choice:
    card = machine.nvidia
    if card is not None and machine.driver_cuda is not None:
        return _for_nvidia(machine, card)
    if card is not None:
        return _cpu(machine, "blocked.no-driver", Outcome.BLOCKED, {"gpu": card.name})
    if machine.platform == "darwin":
        return Choice(Outcome.CPU, DEFAULT_BUILD, "cpu.mac")
    for vendor in ("amd", "intel"):
        if machine.others(vendor):
            return _cpu(machine, f"cpu.{vendor}", Outcome.CPU, {"gpu": machine.others(vendor)[0].name})
    return Choice(Outcome.CPU, cpu_build(machine.platform), "cpu.none")


def _cpu(machine: EngineMachine, key: str, outcome: Outcome, params: dict[str, object]) -> Choice:
    return Choice(outcome, cpu_build(machine.platform), key, params, needs_consent=True)


def _params(machine: EngineMachine, card: Gpu, build: TorchBuild | None = None) -> dict[str, object]:
    params: dict[str, object] = {
        "gpu": card.name, "driver": machine.driver or "?", "driver_cuda": machine.driver_cuda,
        "arch": capability_text(card.capability) if card.capability else "?", "torch": TORCH_VERSION,
        "capability": card.capability,
    }
    if build is not None:
        params |= {"build": build.label(), "cuda": build.cuda,
                   "min_driver": min_driver(build.cuda or "", machine.platform)}
    return params


def _has_cuda_builds(machine: EngineMachine) -> bool:
    """PyTorch publishes CUDA wheels for Linux (x86_64, aarch64) and Windows x86_64 only."""
    arm = machine.arch.lower() in ("aarch64", "arm64")
    return machine.platform.startswith("linux") or (machine.platform == "win32" and not arm)


def _for_nvidia(machine: EngineMachine, card: Gpu) -> Choice:
    driver = cuda_tuple(machine.driver_cuda) or (0, 0)
    builds = [b for b in builds_for(machine.arch) if b.stable and _has_cuda_builds(machine)]
    for_card = [b for b in builds if card.capability is None or build_runs_on(b, card.capability, machine.platform)]
    usable = [b for b in for_card if (cuda_tuple(b.cuda) or (99, 0)) <= driver]
    if usable:
        return _gpu_choice(machine, card, usable[0], builds, for_card)
    if for_card:  # the card is fine, the driver is too old for every build that runs on it
        return _cpu(machine, "blocked.driver-too-old", Outcome.BLOCKED, _params(machine, card, for_card[-1]))
    key = "blocked.card-too-old" if card.capability and card.capability < (5, 0) else "blocked.card-unsupported"
    return _cpu(machine, key, Outcome.BLOCKED, _params(machine, card))


def _gpu_choice(machine: EngineMachine, card: Gpu, build: TorchBuild, builds: list[TorchBuild],
                for_card: list[TorchBuild]) -> Choice:
    params = _params(machine, card, build)
    if card.capability is None:
        key = "gpu.capability-unknown"
    elif build is builds[0]:
        key = "gpu.newest"
    elif build is for_card[0]:
        key = "gpu.older-for-card"  # newer builds dropped this card's architecture
        params["newest"] = builds[0].label()
    else:
        key = "gpu.older-for-driver"  # a newer driver would allow a newer build
        params |= {"newest": for_card[0].label(), "newest_driver": min_driver(for_card[0].cuda or "", machine.platform)}
    return Choice(Outcome.GPU, build, key, params)
