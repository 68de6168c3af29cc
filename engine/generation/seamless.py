"""Seamless tiling (A1111's ``tiling``): circular padding in the UNet's and the VAE's convolutions.

A convolution at the picture's edge then sees the opposite edge instead of zeros, so the left and
right (and top and bottom) edges of the result continue each other and the picture tiles. The
padding mode is switched for one request and put back afterwards, whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CIRCULAR = "circular"


def convolutions(pipe: Any) -> list[Any]:
    """Every 2-D convolution of ``pipe``'s UNet and VAE (LoRA layers included)."""
    import torch

    parts = [getattr(pipe, name, None) for name in ("unet", "vae")]
    return [m for part in parts if part is not None for m in part.modules() if isinstance(m, torch.nn.Conv2d)]


@contextmanager
def circular_padding(pipe: Any, enabled: bool = True) -> Iterator[None]:
    """While inside, ``pipe``'s convolutions pad circularly (nothing changes when not ``enabled``)."""
    if not enabled:
        yield
        return
    layers = convolutions(pipe)
    before = [layer.padding_mode for layer in layers]
    for layer in layers:
        layer.padding_mode = CIRCULAR
    try:
        yield
    finally:
        for layer, mode in zip(layers, before, strict=True):
            layer.padding_mode = mode
