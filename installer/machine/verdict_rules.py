"""One rule per line of the check: each reads :class:`MachineFacts` and returns a :class:`Finding`."""

from __future__ import annotations

from installer.engine_install.arch import capability_text, runs_on
from installer.engine_install.builds import ARCHS_BY_CUDA
from installer.engine_install.choice import Outcome, choose
from installer.engine_install.facts import from_facts
from installer.machine.gpu import GpuInfo
from installer.machine.longpaths import LongPaths
from installer.machine.probes import MachineFacts
from installer.machine.verdict_types import (
    DISK_BLOCKER_GB,
    DISK_MIN_GB,
    GIB,
    HOME_PATH_MAX,
    RAM_BLOCKER_GB,
    RAM_MIN_GB,
    RAM_SLACK,
    VRAM_MIN_GB,
    VRAM_SLACK,
    Finding,
    Verdict,
    at_least,
    gb,
)
from installer.running_engine import same_home

OK, WARNING, BLOCKER = Verdict.OK, Verdict.WARNING, Verdict.BLOCKER


def gpu_list(gpus: tuple[GpuInfo, ...]) -> str:
    return "; ".join(f"GPU {g.index}: {g.name}, {gb(g.vram_total)}" for g in gpus)


def is_apple_silicon(facts: MachineFacts) -> bool:
    return facts.platform == "darwin" and facts.arch in ("arm64", "aarch64")


def gpu(facts: MachineFacts) -> Finding:
    nvml = facts.nvml
    if nvml.status == "ok":
        first = nvml.gpus[0]
        params = {"gpus": gpu_list(nvml.gpus), "driver": nvml.driver_version, "cuda": nvml.cuda_version,
                  "count": len(nvml.gpus), "name": first.name, "min": VRAM_MIN_GB}
        if at_least(first.vram_total, VRAM_MIN_GB, VRAM_SLACK):
            return Finding("gpu", OK, "gpu.ok" if len(nvml.gpus) == 1 else "gpu.ok-many", params)
        return Finding("gpu", WARNING, "gpu.small", params)
    if nvml.status == "no-driver" and is_apple_silicon(facts):
        return Finding("gpu", OK, "gpu.apple")
    if nvml.status == "no-driver":
        return Finding("gpu", WARNING, "gpu.no-driver", fix="install-driver")
    if nvml.status == "no-gpu":
        return Finding("gpu", WARNING, "gpu.none", {"driver": nvml.driver_version})
    return Finding("gpu", WARNING, "gpu.error", {"error": nvml.error})


def _major(version: str | None) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


def torch(facts: MachineFacts) -> Finding:
    info, nvml = facts.torch, facts.nvml
    if info.version is None:
        return Finding("torch", BLOCKER, "torch.missing", fix="install-torch")
    params = {"version": info.version, "build": info.build, "cuda": info.cuda, "driver_cuda": nvml.cuda_version}
    if nvml.status != "ok" or info.build not in ("cpu", "cuda"):
        return Finding("torch", OK, "torch.ok", params)
    right = choose(from_facts(facts))  # the build the installer would put here
    fits = right.outcome is Outcome.GPU
    repair = params | {"build": right.build.label(), "gpu": nvml.gpus[0].name}
    if info.build == "cpu":
        if not fits:
            return Finding("torch", WARNING, "torch.cpu-build-old-driver", repair | dict(right.params), fix="update-driver")
        return Finding("torch", WARNING, "torch.cpu-build", repair, fix="install-cuda-torch")
    if _major(info.cuda) > _major(nvml.cuda_version):
        key, fix = ("torch.driver-old-repair", "repair-torch") if fits else ("torch.driver-old", "update-driver")
        return Finding("torch", WARNING, key, repair, fix=fix)
    card, archs = nvml.gpus[0].compute_capability, ARCHS_BY_CUDA.get(str(info.cuda))
    if card is not None and archs is not None and not runs_on(card, archs) and fits:
        return Finding("torch", WARNING, "torch.arch-missing", repair | {"arch": capability_text(card)}, fix="repair-torch")
    return Finding("torch", OK, "torch.ok", params)


def ram(facts: MachineFacts) -> Finding:
    total = facts.memory.total
    params = {"total": gb(total), "available": gb(facts.memory.available), "min": RAM_MIN_GB}
    if total < RAM_BLOCKER_GB * GIB:
        return Finding("ram", BLOCKER, "ram.too-little", params | {"min": RAM_BLOCKER_GB})
    if not at_least(total, RAM_MIN_GB, RAM_SLACK):
        return Finding("ram", WARNING, "ram.low", params)
    return Finding("ram", OK, "ram.ok", params)


def disk(facts: MachineFacts) -> Finding:
    free = facts.disk.free
    params = {"free": gb(free), "path": facts.disk.path, "min": DISK_MIN_GB}
    if free < DISK_BLOCKER_GB * GIB:
        return Finding("disk", BLOCKER, "disk.full", params | {"min": DISK_BLOCKER_GB}, fix="free-disk")
    if free < DISK_MIN_GB * GIB:
        return Finding("disk", WARNING, "disk.low", params, fix="free-disk")
    return Finding("disk", OK, "disk.ok", params)


def cpu(facts: MachineFacts) -> Finding:
    info = facts.cpu
    return Finding("cpu", OK, "cpu.ok", {"model": info.model, "cores": info.cores or "?", "threads": info.threads or "?"})


def python(facts: MachineFacts) -> Finding:
    return Finding("python", OK, "python.ok", {"version": facts.python})


def long_paths(facts: MachineFacts) -> Finding:
    state = facts.long_paths
    if state is LongPaths.DISABLED:
        return Finding("long-paths", WARNING, "long-paths.disabled", fix="enable-long-paths")
    if state is LongPaths.UNKNOWN:
        return Finding("long-paths", WARNING, "long-paths.unknown")
    return Finding("long-paths", OK, f"long-paths.{state.value}")


def home_length(facts: MachineFacts) -> Finding:
    params = {"path": facts.home, "length": len(facts.home), "max": HOME_PATH_MAX}
    if len(facts.home) > HOME_PATH_MAX:
        return Finding("home-path-length", WARNING, "home.long", params, fix="choose-home")
    return Finding("home-path-length", OK, "home.ok", params)


def home_ascii(facts: MachineFacts) -> Finding:
    params = {"path": facts.home}
    if not facts.home.isascii():
        return Finding("home-path-ascii", WARNING, "home.non-ascii", params, fix="choose-home")
    return Finding("home-path-ascii", OK, "home.ascii", params)


def port(facts: MachineFacts) -> Finding:
    """Free, held by this home's own engine (fine: Maple attaches to it), by another Maple, or by a program."""
    info, own = facts.port, facts.engine
    params: dict[str, object] = {"port": info.port, "owner": info.owner, "next": info.next_free or "?",
                                 "home": info.maple_home or ""}
    if info.in_use and (same_home(info.maple_home, facts.home) or (own is not None and own.port == info.port)):
        return Finding("port", OK, "port.maple-here", params)
    if own is not None:
        return Finding("port", OK, "port.maple-elsewhere", params | {"url": own.url})
    if not info.in_use:
        return Finding("port", OK, "port.free", params)
    if info.maple_home:
        return Finding("port", WARNING, "port.maple-other", params, fix="choose-port")
    key = "port.used-by" if info.owner else "port.used"
    return Finding("port", WARNING, key, params, fix="choose-port")
