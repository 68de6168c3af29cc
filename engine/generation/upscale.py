"""Upscaling a picture with one of A1111's upscalers, as A1111 does, within a memory budget.

The built-in ones resize with Pillow (``Lanczos``, ``Nearest``; ``None`` resizes with Lanczos
where a size is asked for). A model upscaler runs its network tile by tile (``tile_blend``) as
many times as it takes to reach the factor (at most three passes), then the picture is resized to
the size asked for with Lanczos. ``upscale`` floors that size to a multiple of 8, as A1111's
upscalers do; ``upscale_to`` gives exactly the size asked for (hires fix, SD upscale).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from engine.generation.tile_blend import run_tiled, tile_for_budget

if TYPE_CHECKING:
    from engine.jobs import GenParams
    from engine.models.upscaler_load import LoadedUpscaler
    from engine.models.upscalers import Upscaler

log = logging.getLogger(__name__)
MAX_PASSES = 3
OVERLAP = 32  # input pixels shared by neighbouring tiles
CPU_BUDGET = 1024**3  # bytes a tile may use on the CPU
GPU_BUDGET_SHARE = 0.5  # of the free accelerator memory
GPU_BUDGET_MAX = 8 * 1024**3
TRANSFORMERS = ("SwinIR", "HAT", "DAT", "ATD", "DRCT", "RGT", "Swin2SR", "SRFormer", "GRL")


@dataclass(frozen=True)
class Settings:
    """Where and how a model upscaler runs: ``budget`` None means the device's default."""

    device: Any = "cpu"
    budget: int | None = None
    tile: int | None = None  # a fixed tile size (input pixels) instead of one from the budget


def upscale(image: Image.Image, upscaler: Upscaler, scale: float, settings: Settings | None = None) -> Image.Image:
    """``image`` made ``scale`` times larger (each side floored to a multiple of 8)."""
    width, height = int(image.width * scale) // 8 * 8, int(image.height * scale) // 8 * 8
    return upscale_to(image, upscaler, max(width, 8), max(height, 8), settings)


def upscale_to(image: Image.Image, upscaler: Upscaler, width: int, height: int,
               settings: Settings | None = None) -> Image.Image:
    """``image`` resized to exactly ``width`` x ``height`` through ``upscaler``."""
    rgb = image.convert("RGB")
    if upscaler.name == "Nearest":
        return rgb.resize((width, height), Image.Resampling.NEAREST)
    if upscaler.path is not None:
        rgb = _model_passes(rgb, upscaler, width, height, settings or Settings())
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.LANCZOS)
    return rgb


def upscale_first_pass(params: GenParams, images: list[Image.Image], size: tuple[int, int],
                       device: Any) -> list[Image.Image]:
    """Hires fix: the first pass's pictures brought to ``size`` with the job's pixel upscaler."""
    from pathlib import Path

    from engine.models.upscalers import Upscaler

    path = Path(params.hr_upscaler_path) if params.hr_upscaler_path else None
    upscaler = Upscaler(params.hr_upscaler, path)
    return [upscale_to(image, upscaler, size[0], size[1], Settings(device=device)) for image in images]


def _model_passes(image: Image.Image, upscaler: Upscaler, width: int, height: int, settings: Settings) -> Image.Image:
    from engine.models.upscaler_load import load_upscaler

    assert upscaler.path is not None
    model = load_upscaler(upscaler.path, settings.device)
    for _ in range(MAX_PASSES):
        if image.width >= width and image.height >= height:
            break
        image = Image.fromarray(run_model(model, np.asarray(image), settings))
    return image


def run_model(model: LoadedUpscaler, pixels: np.ndarray, settings: Settings) -> np.ndarray:
    """One pass of ``model`` over ``pixels`` (h, w, 3) uint8, tiled to fit the memory budget."""
    height, width = pixels.shape[:2]
    if model.tiling == "INTERNAL":
        tile = max(height, width)  # the architecture tiles by itself
    else:
        tile = settings.tile or tile_for_budget(budget_for(model.device, settings.budget), per_pixel(model),
                                                model.scale, width)
    if max(height, width) <= tile:
        return _whole(model, pixels)
    log.debug("upscaling %dx%d with %s in tiles of %d", width, height, model.arch, tile)
    return run_tiled(lambda part: _call(model, part), pixels, model.scale, tile, OVERLAP)


def _whole(model: LoadedUpscaler, pixels: np.ndarray) -> np.ndarray:
    """One pass over the whole picture, uint8 in and out, the conversions done by torch."""
    import torch

    with torch.inference_mode():
        planes = torch.from_numpy(pixels.transpose(2, 0, 1).copy())  # channels first, contiguous, writable
        result = model(planes[None].to(model.device, model.dtype).div_(255))[0].float()
        return result.permute(1, 2, 0).mul_(255).add_(0.5).clamp_(0, 255).byte().cpu().numpy()


def _call(model: LoadedUpscaler, part: np.ndarray) -> np.ndarray:
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(part.transpose(2, 0, 1)))[None]
    result = model(tensor.to(model.device, model.dtype))
    return np.ascontiguousarray(result[0].float().cpu().numpy().transpose(1, 2, 0))


def per_pixel(model: LoadedUpscaler) -> float:
    """Bytes a model needs per input pixel (measured on ESRGAN, Compact and SwinIR, with 25% spare).

    Most architectures keep features of the widest convolution at the upscaled size (the
    ``3 * scale**2`` term); Compact adds its upscaling only as a final pixel shuffle.
    """
    item = 2 if model.dtype.itemsize == 2 else 4
    upscaled = 0 if model.arch == "Compact" else 3 * model.scale**2
    spare = 2.5 if model.arch in TRANSFORMERS else 1.25
    return float(item * model.features * (8 + upscaled) * spare)


def budget_for(device: Any, budget: int | None) -> int:
    """``budget`` if given, else 1 GiB on the CPU and half the free memory (at most 8 GiB) on a GPU."""
    if budget is not None:
        return budget
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        free, _total = torch.cuda.mem_get_info(dev)
        return int(min(free * GPU_BUDGET_SHARE, GPU_BUDGET_MAX))
    return CPU_BUDGET
