"""Fixed machines for the machine-check tests: a pynvml-like and a psutil-like object.

The fakes raise the real ``pynvml.NVMLError`` classes and return the same shapes the real
libraries do, so the real probe code runs on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml

from installer.machine.adapters import Adapter
from installer.machine.longpaths import LongPaths
from installer.machine.probes import PortInfo, TorchInfo
from installer.machine.report import Probes

GIB = 1024**3
MIB = 1024**2
CUDA_TORCH = TorchInfo("2.4.1+cu121", "cuda", "12.1")
# Compute capabilities of the cards the tests name (NVIDIA's CUDA GPUs list); a GPU given as
# (name, bytes, (major, minor)) overrides this, and a name not here has none (NVML says "not supported").
CAPABILITIES = {
    "GTX 1050 Ti": (6, 1), "GTX 1080": (6, 1), "GTX 1660": (7, 5), "GTX 970": (5, 2),
    "RTX 2060": (7, 5), "RTX 3060": (8, 6), "RTX 3070": (8, 6), "RTX 4070": (8, 9), "RTX 4090": (8, 9),
    "RTX 5070": (12, 0), "RTX 5090": (12, 0), "Tesla K80": (3, 7), "Tesla V100": (7, 0), "H100": (9, 0),
}


def capability_of(name: str) -> tuple[int, int] | None:
    return next((cc for key, cc in CAPABILITIES.items() if key in name), None)


@dataclass
class FakeNvml:
    gpus: list[tuple[Any, ...]] = field(default_factory=list)  # (name, total bytes[, (major, minor)])
    driver: str | bytes = "550.54.14"
    cuda: int = 12040
    init_error: int | None = None  # an NVML_ERROR_* code raised by nvmlInit
    memory_error: int | None = None  # raised when reading a GPU's memory
    shut_down: bool = False

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlSystemGetDriverVersion(self) -> str | bytes:
        return self.driver

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.cuda

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self.gpus[handle][0]

    def nvmlDeviceGetCudaComputeCapability(self, handle: int) -> tuple[int, int]:
        gpu = self.gpus[handle]
        capability = gpu[2] if len(gpu) > 2 else capability_of(gpu[0])
        if capability is None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return capability

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        if self.memory_error is not None:
            raise pynvml.NVMLError(self.memory_error)
        total = self.gpus[handle][1]
        return SimpleNamespace(total=total, free=total - 300 * MIB, used=300 * MIB)


@dataclass
class FakePsutil:
    ram_total: int = 32 * GIB
    ram_available: int = 24 * GIB
    disk_total: int = 1000 * GIB
    disk_free: int = 500 * GIB
    cores: int = 8
    threads: int = 16
    disk_paths: list[str] = field(default_factory=list)

    def virtual_memory(self) -> SimpleNamespace:
        return SimpleNamespace(total=self.ram_total, available=self.ram_available)

    def disk_usage(self, path: str) -> SimpleNamespace:
        self.disk_paths.append(path)
        return SimpleNamespace(total=self.disk_total, free=self.disk_free, used=self.disk_total - self.disk_free)

    def cpu_count(self, logical: bool = True) -> int:
        return self.threads if logical else self.cores


def probes(
    nvml: FakeNvml | None = None,
    ps: FakePsutil | None = None,
    torch: TorchInfo | None = CUDA_TORCH,
    long_paths: LongPaths = LongPaths.NOT_NEEDED,
    port: PortInfo | None = None,
    platform: str = "linux",
    arch: str = "x86_64",
    adapters: tuple[Adapter, ...] = (),
) -> Probes:
    """A whole fixed machine; every part can be replaced."""
    torch_info = torch or TorchInfo(None)
    return Probes(
        nvml=nvml or FakeNvml(),
        psutil=ps or FakePsutil(),
        torch=lambda: torch_info,
        cpu_model=lambda: "Test CPU 9000",
        long_paths=lambda: long_paths,
        port=lambda p: port or PortInfo(p, False),
        platform=platform,
        arch=arch,
        python=lambda: "3.11.9",
        adapters=lambda: adapters,
    )
