"""Probes of the machine besides the GPU: RAM, CPU, disk, Python and the installed torch build.

Each probe takes the library it reads from as an argument (``psutil`` by default) so tests can
hand in fixed numbers. torch is never imported: its build is read from the package's files.
"""

from __future__ import annotations

import logging
import platform
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from installer.machine.adapters import Adapter
from installer.machine.gpu import NvmlInfo
from installer.machine.longpaths import LongPaths
from installer.running_engine import RunningEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MemoryInfo:
    total: int  # bytes
    available: int


@dataclass(frozen=True)
class DiskInfo:
    path: str  # the folder actually measured (the home, or its nearest existing parent)
    total: int
    free: int


@dataclass(frozen=True)
class CpuInfo:
    model: str
    cores: int | None  # physical
    threads: int | None  # logical


@dataclass(frozen=True)
class TorchInfo:
    """``build`` is "cuda", "rocm", "cpu" or "unknown"; ``version`` None when torch is absent."""

    version: str | None
    build: str | None = None
    cuda: str | None = None  # the CUDA version torch was built for, e.g. "12.8"


def _psutil(ps: Any) -> Any:
    if ps is not None:
        return ps
    import psutil

    return psutil


def probe_memory(ps: Any = None) -> MemoryInfo:
    vm = _psutil(ps).virtual_memory()
    return MemoryInfo(int(vm.total), int(vm.available))


def existing_parent(path: Path) -> Path:
    """The path itself or its nearest parent that exists (a new home is not created yet)."""
    path = path.absolute()
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def probe_disk(path: Path, ps: Any = None) -> DiskInfo:
    where = existing_parent(path)
    usage = _psutil(ps).disk_usage(str(where))
    return DiskInfo(str(where), int(usage.total), int(usage.free))


def probe_cpu(ps: Any = None) -> CpuInfo:
    ps = _psutil(ps)
    return CpuInfo(cpu_model(), ps.cpu_count(logical=False), ps.cpu_count(logical=True))


def cpu_model() -> str:
    """The processor's marketing name, or the best the platform gives."""
    try:
        name = _cpu_model_for(sys.platform)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.debug("cpu model not readable: %s", exc)
        name = ""
    return name or platform.processor() or platform.machine() or "unknown"


def _cpu_model_for(plat: str) -> str:
    if plat.startswith("linux"):
        return _linux_cpu_model(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    if plat == "win32":
        return _windows_cpu_model()
    if plat == "darwin":
        out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=2)
        return out.stdout.strip()
    return ""


def _linux_cpu_model(text: str) -> str:
    for key in ("model name", "Hardware", "Processor", "cpu model"):
        match = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
        if match:
            return match.group(1).strip()
    return ""


def _windows_cpu_model() -> str:
    import importlib

    winreg: Any = importlib.import_module("winreg")
    key = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
    with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
        return str(winreg.QueryValueEx(handle, "ProcessorNameString")[0]).strip()


def python_version() -> str:
    return platform.python_version()


def probe_torch(dist_name: str = "torch", engine_packages: Path | None = None) -> TorchInfo:
    """Which torch the engine will import and for what hardware, from its metadata and
    ``torch/version.py``: the installer's engine packages first (the engine puts them first), then
    this environment's."""
    if engine_packages is None:
        from installer.engine_install.location import layout

        engine_packages = layout().live
    path = [str(engine_packages), *sys.path] if engine_packages.is_dir() else sys.path
    dist = next(iter(metadata.distributions(name=dist_name, path=path)), None)
    if dist is None:
        return TorchInfo(None)
    version = dist.version
    build, cuda = torch_build(version, _version_file(dist))
    return TorchInfo(version, build, cuda)


def _version_file(dist: metadata.Distribution) -> str:
    try:
        return Path(str(dist.locate_file("torch/version.py"))).read_text(encoding="utf-8")
    except OSError:
        return ""


def torch_build(version: str, version_py: str = "") -> tuple[str, str | None]:
    """Decide the build from ``2.4.1+cu121``-style labels, else from ``torch/version.py``."""
    local = version.partition("+")[2]
    if local.startswith("cu") and local[2:].isdigit():
        digits = local[2:]
        return "cuda", f"{digits[:-1]}.{digits[-1]}"
    if local.startswith("rocm"):
        return "rocm", None
    if local == "cpu":
        return "cpu", None
    cuda = _assigned(version_py, "cuda")
    if cuda:
        return "cuda", cuda
    if _assigned(version_py, "hip"):
        return "rocm", None
    return ("cpu", None) if version_py else ("unknown", None)


def _assigned(text: str, name: str) -> str | None:
    """The string a ``name = '...'`` line of version.py assigns, None for ``None`` or no line."""
    match = re.search(rf"^{name}\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    return match.group(1) if match else None



@dataclass(frozen=True)
class PortInfo:
    port: int
    in_use: bool
    owner: str | None = None  # "name (pid N)" when knowable
    next_free: int | None = None
    maple_home: str | None = None  # the data home of the Maple engine serving there (its /maple/v1/info)


@dataclass(frozen=True)
class MachineFacts:
    """Everything the probes saw, before any judgement."""

    platform: str  # sys.platform
    arch: str  # platform.machine()
    python: str
    home: str
    nvml: NvmlInfo
    memory: MemoryInfo
    disk: DiskInfo
    cpu: CpuInfo
    torch: TorchInfo
    long_paths: LongPaths
    port: PortInfo
    adapters: tuple[Adapter, ...] = ()  # every display adapter (AMD and Intel ones too)
    engine: RunningEngine | None = None  # this data home's own engine, already running (on any port)
