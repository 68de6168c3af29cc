"""Turning ``--device/--precision/--vram-mode`` (possibly ``auto``) into what torch uses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

GIB = 1024**3


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
    def torch_device(self) -> Any:
        import torch

        return torch.device(self.device)

    @property
    def dtype(self) -> Any:
        import torch

        return {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[self.precision]


def _auto_device(torch: Any) -> str:
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _auto_vram(torch: Any, device: str) -> str:
    if device != "cuda":
        return "high"
    total = torch.cuda.get_device_properties(0).total_memory
    return "high" if total >= 8 * GIB else "medium" if total >= 4 * GIB else "low"


def resolve(device: str, precision: str, vram_mode: str, vram_mode_sdxl: str = "") -> DeviceChoice:
    """Resolve ``auto`` values with torch; a device asked for but missing falls back to the CPU."""
    import torch

    wanted = _auto_device(torch) if device == "auto" else device
    if wanted == "cuda" and not torch.cuda.is_available():
        log.warning("CUDA was asked for but torch cannot use a GPU here; using the CPU.")
        wanted = "cpu"
    if wanted == "mps" and _auto_device(torch) != "mps":
        log.warning("MPS was asked for but is not available; using the CPU.")
        wanted = "cpu"
    prec = precision if precision != "auto" else ("fp32" if wanted == "cpu" else "fp16")
    if wanted == "cpu" and prec == "fp16":
        log.warning("fp16 is not supported on the CPU; using fp32.")
        prec = "fp32"
    mode = _auto_vram(torch, wanted) if vram_mode == "auto" else vram_mode
    name = torch.cuda.get_device_name(0) if wanted == "cuda" else wanted.upper()
    sdxl = vram_mode_sdxl if vram_mode_sdxl not in ("", "auto", mode) else ""
    return DeviceChoice(wanted, prec, mode, name, sdxl)
