"""Images for img2img and inpainting, prepared as A1111 prepares them.

Resize modes: 0 just resize, 1 crop and resize (cover, centre crop), 2 resize and fill (fit,
centre, stretch the edge rows/columns into the bars), 3 latent upscale (handled in latent space by
the caller). The mask is inverted if asked, blurred by ``mask_blur``, resized like the image; the
overlay pastes the original pixels back outside the mask after decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter, ImageOps

LANCZOS = Image.Resampling.LANCZOS


def resize_image(mode: int, image: Image.Image, width: int, height: int) -> Image.Image:
    if mode == 1:
        return _crop_and_resize(image, width, height)
    if mode == 2:
        return _resize_and_fill(image, width, height)
    return image.resize((width, height), LANCZOS)


def _crop_and_resize(image: Image.Image, width: int, height: int) -> Image.Image:
    scale = max(width / image.width, height / image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resized = image.resize((w, h), LANCZOS)
    left, top = (w - width) // 2, (h - height) // 2
    return resized.crop((left, top, left + width, top + height))


def _resize_and_fill(image: Image.Image, width: int, height: int) -> Image.Image:
    scale = min(width / image.width, height / image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resized = image.resize((w, h), LANCZOS)
    canvas = Image.new(image.mode, (width, height))
    left, top = (width - w) // 2, (height - h) // 2
    canvas.paste(resized, (left, top))
    if top > 0:  # stretch the first and last rows into the bars above and below
        canvas.paste(resized.crop((0, 0, w, 1)).resize((w, top)), (left, 0))
        bottom = height - top - h
        canvas.paste(resized.crop((0, h - 1, w, h)).resize((w, bottom)), (left, top + h))
    if left > 0:
        canvas.paste(resized.crop((0, 0, 1, h)).resize((left, h)), (0, top))
        right = width - left - w
        canvas.paste(resized.crop((w - 1, 0, w, h)).resize((right, h)), (left + w, top))
    return canvas


@dataclass
class MaskSet:
    """The prepared mask: ``blurred`` (L, target size; white = repaint) and the overlay alpha."""

    blurred: Image.Image
    overlay_alpha: Image.Image


def prepare_mask(mask: Image.Image, params: Any) -> MaskSet:
    mask = mask.convert("L")
    if params.inpainting_mask_invert:
        mask = ImageOps.invert(mask)
    if params.mask_blur > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(params.mask_blur))
    mask = resize_image(params.resize_mode if params.resize_mode != 3 else 0, mask,
                        params.width, params.height)
    doubled = mask.point(lambda v: min(255, v * 2))  # A1111 makes the overlay's edge firmer
    return MaskSet(mask, ImageOps.invert(doubled))


def fill_masked(image: Image.Image, mask: Image.Image) -> Image.Image:
    """Inpainting fill mode 0: paint the masked area with the surrounding colours, blurred."""
    keep = ImageOps.invert(mask.convert("L"))
    source = Image.new("RGBa", image.size)
    source.paste(image.convert("RGBA").convert("RGBa"), mask=keep)
    filled = Image.new("RGBA", image.size)
    for radius, times in ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2), (0, 1)):
        layer = source.filter(ImageFilter.GaussianBlur(radius)).convert("RGBA")
        for _ in range(times):
            filled.alpha_composite(layer)
    return filled.convert("RGB")


def overlay(generated: Image.Image, original: Image.Image, masks: MaskSet) -> Image.Image:
    """Paste the original pixels back where nothing was to change."""
    base = generated.convert("RGBA")
    top = original.convert("RGBA")
    top.putalpha(masks.overlay_alpha)
    base.alpha_composite(top)
    return base.convert("RGB")


def latent_mask(mask: Image.Image, size: tuple[int, int], device: Any, dtype: Any) -> Any:
    """The repaint mask at latent size, rounded to 0/1 as A1111 does: (1, 1, h, w)."""
    import numpy as np
    import torch

    small = np.asarray(mask.convert("L").resize(size, LANCZOS), dtype=np.float32) / 255.0
    return torch.from_numpy(np.around(small))[None, None].to(device=device, dtype=dtype)


def to_pixels(images: list[Image.Image]) -> Any:
    """PIL images -> a tensor in [-1, 1] (batch, 3, h, w)."""
    import numpy as np
    import torch

    arrays = [np.asarray(im.convert("RGB"), dtype=np.float32) / 127.5 - 1.0 for im in images]
    return torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
