"""How large a picture the VAE may decode or encode in one piece, from the memory that is free.

Measured with Stable Diffusion's VAE (SD1 and SDXL share its decoder widths): a whole decode
needs about 4.1 KB per output pixel in fp32 (512x512: 1.1 GB; 2048x2048: 17 GB), half that in
fp16. Above the limit the engine decodes tile by tile, so a 2048x2048 hires result fits a small
card. The same rule sizes the tiles. Pure arithmetic: the engine gives it the free memory torch
reports right before a decode (the check's own reading at start-up is stale once a model loads).
"""

from __future__ import annotations

import math

DECODE_BYTES_PER_PIXEL_FP32 = 4_200
FREE_SHARE = 0.6  # of the free memory a decode may take; the rest is the allocator's slack
CPU_WHOLE_PIXELS = 1024 * 1024  # on the CPU, RAM for larger decodes is tiled regardless
CPU_TILE = 512  # the CPU's tile side (about 1.1 GB of RAM in fp32)
TILE_MIN, TILE_MAX = 256, 1024  # tile sides in pixels, multiples of 64


def bytes_per_pixel(dtype_bytes: int) -> float:
    return DECODE_BYTES_PER_PIXEL_FP32 * dtype_bytes / 4


def whole_pixels(free_bytes: int, dtype_bytes: int = 2) -> int:
    """The most output pixels one whole decode may have with ``free_bytes`` free."""
    return int(free_bytes * FREE_SHARE / bytes_per_pixel(dtype_bytes))


def tile_side(free_bytes: int | None, dtype_bytes: int = 4) -> int:
    """A tile side (pixels, multiple of 64) whose decode fits the free memory; the CPU's without a figure."""
    if free_bytes is None:
        return CPU_TILE
    side = math.sqrt(max(whole_pixels(free_bytes, dtype_bytes), 1))
    return int(min(TILE_MAX, max(TILE_MIN, side)) // 64 * 64)
