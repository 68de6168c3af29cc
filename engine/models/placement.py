"""Putting a loaded pipeline on its device per VRAM mode, SDPA attention, and releasing it."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from engine.models.device import free_memory
from installer.contract import VRAM_MODES

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def use_sdpa(pipe: Any) -> None:
    """PyTorch's scaled-dot-product attention in the UNet and the VAE."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    for name in ("unet", "vae"):
        module = getattr(pipe, name, None)
        if module is None or not hasattr(module, "set_attn_processor"):
            continue
        if all(isinstance(p, AttnProcessor2_0) for p in module.attn_processors.values()):
            continue  # diffusers' default with PyTorch 2 already
        with suppress(ValueError, AttributeError):
            module.set_attn_processor(AttnProcessor2_0())


def place(pipe: Any, device: torch.device, vram_mode: str = "high") -> str:
    """Put the pipeline on ``device`` per VRAM mode; returns the mode in effect.

    high: everything on the GPU; medium: whole models move in when used (model offload);
    low: layer by layer (sequential offload, slowest, least memory). The CPU has one mode.
    """
    mode = "high" if vram_mode in ("auto", "", None) else vram_mode
    if mode not in VRAM_MODES:
        raise ValueError(f"unknown VRAM mode {vram_mode!r}: use auto, high, medium or low")
    if device.type == "cpu":
        if _off_cpu(pipe):
            pipe.to("cpu")
        return "high"
    if mode == "medium":
        pipe.enable_model_cpu_offload(device=device)
    elif mode == "low":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    return mode


def _off_cpu(pipe: Any) -> bool:
    import torch

    for comp in getattr(pipe, "components", {}).values():
        if isinstance(comp, torch.nn.Module) and any(p.device.type != "cpu" for p in comp.parameters()):
            return True
    return False


def meta_tensors(pipe: Any, limit: int = 5) -> list[str]:
    """Names of weights the checkpoint did not provide (still on the meta device)."""
    import torch

    missing: list[str] = []
    for comp_name, comp in pipe.components.items():
        if not isinstance(comp, torch.nn.Module):
            continue
        for name, tensor in list(comp.named_parameters()) + list(comp.named_buffers()):
            if tensor.is_meta:
                missing.append(f"{comp_name}.{name}")
                if len(missing) >= limit:
                    return missing
    return missing


def release(pipe: Any) -> None:
    """Drop a pipeline's weights now (even if something still holds the pipeline) and free memory."""
    import torch

    with suppress(Exception):
        pipe.remove_all_hooks()
    for comp in list(getattr(pipe, "components", {}).values()):
        if isinstance(comp, torch.nn.Module):
            with suppress(Exception):
                comp.to("meta")
    free_memory()
