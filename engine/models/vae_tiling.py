"""Tiled VAE: large pictures decoded and encoded tile by tile, so they do not run out of memory.

Above a size the VAE works on overlapping tiles blended over a quarter of a tile (diffusers'
tiled decode and encode), and needs the memory of one tile instead of the whole picture's. The
size comes from the machine check's rule (``installer.machine.vae_memory``) applied to the memory
free right now on a GPU; on the CPU pictures above 1024x1024 are always tiled. Every tile is
normalised with the statistics of the whole picture (``vae_norms``), so tiles match in colour and
the overlaps leave no seams. Tiling is switched on for one call and the VAE put back as it was.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.models import vae_norms
from installer.machine import vae_memory

log = logging.getLogger(__name__)
STATS_PIXELS = 512 * 512  # the small copy whose GroupNorm statistics every tile shares


def scale_factor(vae: Any) -> int:
    return int(2 ** (len(vae.config.block_out_channels) - 1))


def free_bytes(device: Any) -> int | None:
    """Free memory on a CUDA device (None elsewhere: the CPU's rule needs no figure)."""
    import torch

    if getattr(device, "type", str(device)) != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return int(free)


def plan(vae: Any, pixels: int, device: Any) -> int | None:
    """The tile side to use for a picture of ``pixels`` output pixels, or None to work whole."""
    itemsize = vae.dtype.itemsize
    free = free_bytes(device)
    limit = vae_memory.CPU_WHOLE_PIXELS if free is None else vae_memory.whole_pixels(free, itemsize)
    if pixels <= limit:
        return None
    return vae_memory.tile_side(free, itemsize)


def decode(vae: Any, latents: Any) -> Any:
    """``vae.decode`` of scaled latents -> pixels in [-1, 1]; tile by tile when the picture is large."""
    import torch

    factor = scale_factor(vae)
    side = plan(vae, latents.shape[-2] * latents.shape[-1] * factor * factor, latents.device)
    if side is None:
        return vae.decode(latents, return_dict=False)[0]
    parts = []
    for i in range(latents.shape[0]):  # the statistics are each picture's own
        one = latents[i : i + 1]
        stats: vae_norms.Stats = {}
        with vae_norms.recording(vae.decoder, stats):
            vae.decode(_small(one, factor), return_dict=False)
        with _tiles(vae, side, one.shape), vae_norms.using(vae.decoder, stats):
            parts.append(vae.decode(one, return_dict=False)[0])
    return torch.cat(parts)


def encode(vae: Any, pixels: Any) -> Any:
    """``vae.encode(pixels).latent_dist`` for one picture; tile by tile when it is large."""
    side = plan(vae, pixels.shape[-2] * pixels.shape[-1], pixels.device)
    if side is None:
        return vae.encode(pixels).latent_dist
    stats: vae_norms.Stats = {}
    with vae_norms.recording(vae.encoder, stats):
        vae.encode(_small(pixels, 1))
    with _tiles(vae, side, pixels.shape), vae_norms.using(vae.encoder, stats):
        return vae.encode(pixels).latent_dist


def _small(sample: Any, factor: int) -> Any:
    """``sample`` shrunk so its picture has at most ``STATS_PIXELS`` pixels (statistics only)."""
    import torch.nn.functional as F

    height, width = sample.shape[-2:]
    shrink = math.ceil(math.sqrt(height * width * factor * factor / STATS_PIXELS))
    if shrink <= 1:
        return sample
    least = max(1, 8 // factor)  # an encoder's input keeps at least 8 pixels a side
    size = (max(height // shrink, least), max(width // shrink, least))
    return F.interpolate(sample.float(), size=size, mode="area").to(sample.dtype)


@contextmanager
def _tiles(vae: Any, side: int, shape: Any) -> Iterator[None]:
    """Within: ``vae`` works in tiles of ``side`` pixels."""
    saved = (vae.use_tiling, vae.tile_sample_min_size, vae.tile_latent_min_size)
    vae.use_tiling, vae.tile_sample_min_size = True, side
    vae.tile_latent_min_size = side // scale_factor(vae)
    log.info("VAE in tiles of %dx%d for a %s picture", side, side, "x".join(str(n) for n in shape[-2:]))
    try:
        yield
    finally:
        vae.use_tiling, vae.tile_sample_min_size, vae.tile_latent_min_size = saved
