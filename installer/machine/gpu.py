"""NVIDIA GPUs through NVML (``nvidia-ml-py``, imported as ``pynvml``).

Every NVML failure becomes a :class:`NvmlInfo` with a status and a message; nothing here raises.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# NVML return codes meaning "there is no usable NVIDIA driver here".
NO_DRIVER_CODES = frozenset({9, 12})  # NVML_ERROR_DRIVER_NOT_LOADED, NVML_ERROR_LIBRARY_NOT_FOUND


@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str
    vram_total: int  # bytes
    vram_free: int  # bytes
    compute_capability: tuple[int, int] | None = None  # (8, 6) for sm_86; None when NVML could not say


@dataclass(frozen=True)
class NvmlInfo:
    """What NVML said. ``status`` is "ok", "no-gpu", "no-driver" or "error"."""

    status: str
    gpus: tuple[GpuInfo, ...] = field(default_factory=tuple)
    driver_version: str | None = None
    cuda_version: str | None = None  # the newest CUDA the driver supports, e.g. "12.4"
    error: str | None = None


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _cuda_version(code: int) -> str:
    """NVML gives 12040 for CUDA 12.4."""
    return f"{code // 1000}.{(code % 1000) // 10}"


def _load_nvml() -> Any:
    import pynvml

    return pynvml


def _read_gpu(nvml: Any, index: int) -> GpuInfo:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    name = _text(nvml.nvmlDeviceGetName(handle))
    return GpuInfo(index, name, int(memory.total), int(memory.free), _capability(nvml, handle))


def _capability(nvml: Any, handle: Any) -> tuple[int, int] | None:
    """The card's CUDA compute capability, e.g. (12, 0) for an RTX 50 card; None if unreadable."""
    try:
        major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
        return int(major), int(minor)
    except Exception as exc:  # an old driver or NVML without the call
        log.info("NVML gave no compute capability for GPU: %s", exc)
        return None


def _read_all(nvml: Any) -> NvmlInfo:
    driver = _text(nvml.nvmlSystemGetDriverVersion())
    cuda = _cuda_version(int(nvml.nvmlSystemGetCudaDriverVersion()))
    gpus = tuple(_read_gpu(nvml, i) for i in range(int(nvml.nvmlDeviceGetCount())))
    return NvmlInfo("ok" if gpus else "no-gpu", gpus, driver, cuda)


def _failure(exc: Exception) -> NvmlInfo:
    code = getattr(exc, "value", None)
    status = "no-driver" if code in NO_DRIVER_CODES else "error"
    message = str(exc) or type(exc).__name__
    log.info("NVML: %s (%s)", message, status)
    return NvmlInfo(status, error=message)


def probe_nvml(nvml: Any = None) -> NvmlInfo:
    """Read driver, CUDA version and every GPU's name and memory. Never raises."""
    try:
        nvml = _load_nvml() if nvml is None else nvml
    except ImportError as exc:
        return NvmlInfo("error", error=f"nvidia-ml-py is not installed ({exc})")
    try:
        nvml.nvmlInit()
    except Exception as exc:  # NVMLError or an OSError from a broken library
        return _failure(exc)
    try:
        return _read_all(nvml)
    except Exception as exc:
        return _failure(exc)
    finally:
        _shutdown(nvml)


def _shutdown(nvml: Any) -> None:
    try:
        nvml.nvmlShutdown()
    except Exception as exc:
        log.debug("nvmlShutdown failed: %s", exc)
