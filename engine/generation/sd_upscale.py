"""SD upscale (A1111's "SD upscale" img2img script): upscale, then repaint tile by tile.

The init image is upscaled by the script's factor with its upscaler (``None`` keeps it as it
is), cut into tiles of the job's width x height that overlap by the script's ``overlap`` pixels,
and every tile goes through img2img with the job's prompt and settings (``batch_size`` tiles at a
time, seeds from the job's seed as A1111 does). The repainted tiles are blended back with
feathered overlaps (``tile_blend.weights``), once per ``n_iter`` with the seed advanced by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from engine.generation.tile_blend import Tiles, to_uint8, weights
from engine.jobs import GenParams, GenResult

if TYPE_CHECKING:
    from engine.jobs import JobControl
    from engine.models.loaded import LoadedModel

EXTRA_KEY = "sd_upscale"


@dataclass(frozen=True)
class SdUpscale:
    """The script's arguments, resolved: overlap in pixels, the upscaler, the factor."""

    overlap: int
    upscaler: str
    upscaler_path: str
    scale: float


def grid(length: int, tile: int, overlap: int) -> Tiles:
    """Tiles of exactly ``tile`` pixels with at least ``overlap`` shared, spread evenly (A1111's grid)."""
    if length <= tile:
        return Tiles((0,), length)
    count = math.ceil((length - overlap) / (tile - overlap))
    return Tiles(tuple(round(i * (length - tile) / (count - 1)) for i in range(count)), tile)


def run_sd_upscale(model: LoadedModel, params: GenParams, control: JobControl) -> GenResult:
    """The script's result: one blended picture per ``n_iter``."""
    from engine.generation.generate import generate, resolve_seed

    plan: SdUpscale = params.extra[EXTRA_KEY]
    big = _upscaled(params.init_images[0].convert("RGB"), plan, model.device)
    width, height = min(params.width, big.width // 8 * 8), min(params.height, big.height // 8 * 8)
    cols, rows = grid(big.width, width, plan.overlap), grid(big.height, height, plan.overlap)
    boxes = [(x, y) for y in rows.starts for x in cols.starts]
    first_seed = resolve_seed(params.seed)
    result = GenResult(images=[], seeds=[], infotexts=[])
    for n in range(max(1, params.n_iter)):
        tiles, last = _repaint(model, params, big, boxes, (width, height), first_seed + n, control, generate)
        if len(tiles) < len(boxes):  # interrupted or skipped part-way: nothing to blend
            result.interrupted = True
            break
        result.images.append(_blend(big.size, cols, rows, tiles))
        result.seeds.append(first_seed + n)
        result.infotexts.append(_infotext(last, plan))
        if control.should_interrupt():
            result.interrupted = True
            break
    return result


def _upscaled(image: Image.Image, plan: SdUpscale, device: Any) -> Image.Image:
    if plan.upscaler == "None":
        return image
    from engine.generation.upscale import Settings, upscale
    from engine.models.upscalers import Upscaler

    upscaler = Upscaler(plan.upscaler, Path(plan.upscaler_path) if plan.upscaler_path else None)
    return upscale(image, upscaler, plan.scale, Settings(device=device))


def _repaint(model: LoadedModel, params: GenParams, big: Image.Image, boxes: list[tuple[int, int]],
             size: tuple[int, int], seed: int, control: JobControl, generate: Any) -> tuple[list[Image.Image], str]:
    """Every tile through img2img, ``batch_size`` at a time; the tiles and the last infotext."""
    extra = {k: v for k, v in params.extra.items() if k != EXTRA_KEY}
    width, height = size
    done: list[Image.Image] = []
    infotext = ""
    step = max(1, params.batch_size)
    for start in range(0, len(boxes), step):
        crops = tuple(big.crop((x, y, x + width, y + height)) for x, y in boxes[start : start + step])
        job = replace(params, init_images=crops, width=width, height=height, batch_size=len(crops), n_iter=1,
                      seed=seed, mask=None, resize_mode=0, extra=extra)
        out = generate(model, job, control)
        done.extend(out.images)
        infotext = out.infotexts[-1] if out.infotexts else infotext
        if out.interrupted or len(out.images) < len(crops):
            break
    return done, infotext


def _blend(size: tuple[int, int], cols: Tiles, rows: Tiles, tiles: list[Image.Image]) -> Image.Image:
    width, height = size
    canvas = np.zeros((height, width, 3), np.float32)
    wx, wy = weights(cols, width, 1), weights(rows, height, 1)
    index = 0
    for r, y in enumerate(rows.starts):
        for c, x in enumerate(cols.starts):
            part = np.asarray(tiles[index].convert("RGB"), np.float32) / 255.0
            canvas[y : y + rows.size, x : x + cols.size] += part * wy[r][:, None, None] * wx[c][None, :, None]
            index += 1
    return Image.fromarray(to_uint8(canvas))


def _infotext(tile_text: str, plan: SdUpscale) -> str:
    """The last tile's infotext with the script's settings added, as A1111 writes them."""
    from engine.generation.infotext import quote

    pairs = f"SD upscale overlap: {plan.overlap}, SD upscale upscaler: {quote(plan.upscaler)}"
    lines = tile_text.split("\n")
    if not lines or not lines[-1]:
        return pairs
    head, _, version = lines[-1].rpartition(", Version: ")
    lines[-1] = f"{head}, {pairs}, Version: {version}" if head else f"{lines[-1]}, {pairs}"
    return "\n".join(lines)
