"""Devices and precisions: what torch runs on, ``auto`` resolved, and handing memory back.

The engine's one place for these. ``choose`` turns ``--device/--precision/--vram-mode`` into a
``DeviceChoice`` at start-up (a device asked for but missing falls back to the CPU, and fp16 is
not used there); ``resolve_device``/``resolve_dtype`` give the torch objects, for the choice and for
direct ``load_checkpoint`` calls. torch is imported only when a function runs.
"""

from __future__ import annotations

import gc
import logging
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

GIB = 1024**3
DTYPE_NAMES = {"fp16": "float16", "float16": "float16", "half": "float16", "bf16": "bfloat16",
               "bfloat16": "bfloat16", "fp32": "float32", "float32": "float32", "full": "float32"}


@dataclass(frozen=True)
class DeviceChoice:
    device: str  # "cuda", "mps", "cpu"
    precision: str  # "fp16", "bf16", "fp32"
    vram_mode: str  # "high", "medium", "low"
    name: str = ""  # the card's name, for the log
    vram_mode_sdxl: str = ""  # SDXL's mode when it differs (8-12 GB cards: "medium" while SD1 gets "high")

    def vram_mode_for(self, arch: str | None) -> str:
        """The VRAM mode for a model of architecture ``arch`` ("sd1", "sdxl", "sdxl-refiner", ...)."""
        if arch and arch.startswith("sdxl") and self.vram_mode_sdxl:
            return self.vram_mode_sdxl
        return self.vram_mode

    @property
    def torch_device(self) -> torch.device:
        return resolve_device(self.device)

    @property
    def dtype(self) -> torch.dtype:
        return resolve_dtype(self.precision, self.torch_device)


def _mps_available(torch: ModuleType) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and bool(mps.is_available())


def auto_device() -> str:
    """CUDA, then Apple's MPS, then the CPU."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "mps" if _mps_available(torch) else "cpu"


def auto_precision(device: str) -> str:
    """fp32 on the CPU, fp16 on CUDA and MPS."""
    return "fp32" if device == "cpu" else "fp16"


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """A ``torch.device``; ``auto`` is ``auto_device()``."""
    import torch

    if isinstance(device, torch.device):
        return device
    name = str(device or "auto").lower()
    return torch.device(auto_device() if name == "auto" else name)


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """The precision asked for (``fp16``, ``bf16``, ``fp32`` and their torch names); ``auto`` or None is
    ``auto_precision`` for ``device``."""
    import torch

    if isinstance(dtype, torch.dtype):
        return dtype
    name = str(dtype or "auto").lower()
    if name == "auto":
        name = auto_precision(device.type)
    if name not in DTYPE_NAMES:
        raise ValueError(f"unknown precision {dtype!r}: use auto, fp16, bf16 or fp32")
    result: torch.dtype = getattr(torch, DTYPE_NAMES[name])
    return result


def _auto_vram(torch: ModuleType, device: str) -> str:
    if device != "cuda":
        return "high"
    total = torch.cuda.get_device_properties(0).total_memory
    return "high" if total >= 8 * GIB else "medium" if total >= 4 * GIB else "low"


def _available(torch: ModuleType, wanted: str) -> str:
    """``wanted``, or the CPU when torch cannot use it here."""
    if wanted == "cuda" and not torch.cuda.is_available():
        log.warning("CUDA was asked for but torch cannot use a GPU here; using the CPU.")
        return "cpu"
    if wanted == "mps" and auto_device() != "mps":
        log.warning("MPS was asked for but is not available; using the CPU.")
        return "cpu"
    return wanted


def choose(device: str, precision: str, vram_mode: str, vram_mode_sdxl: str = "") -> DeviceChoice:
    """Resolve ``auto`` values with torch; a device asked for but missing falls back to the CPU."""
    import torch

    wanted = _available(torch, auto_device() if device == "auto" else device)
    prec = precision if precision != "auto" else auto_precision(wanted)
    if wanted == "cpu" and prec == "fp16":
        log.warning("fp16 is not supported on the CPU; using fp32.")
        prec = "fp32"
    mode = _auto_vram(torch, wanted) if vram_mode == "auto" else vram_mode
    name = torch.cuda.get_device_name(0) if wanted == "cuda" else wanted.upper()
    sdxl = vram_mode_sdxl if vram_mode_sdxl not in ("", "auto", mode) else ""
    return DeviceChoice(wanted, prec, mode, name, sdxl)


def free_memory() -> None:
    """Drop what Python holds and hand cached accelerator memory back (best effort; never imports torch)."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()
            torch.cuda.ipc_collect()
        mps = getattr(torch, "mps", None)
        if mps is not None and _mps_available(torch):
            mps.empty_cache()
    except Exception as exc:  # freeing is best effort
        log.warning("could not free accelerator memory: %s", exc)
