"""Inpaint area "Only masked" (``inpaint_full_res``): repaint a crop around the mask at full size.

As A1111: the mask's bounding box plus ``inpaint_full_res_padding`` (32 px) is widened to the
job's aspect ratio, image and mask are cropped to it and resized (resize-and-fill) to the job's
size, the crop is repainted, scaled back and pasted into the original, whose pixels outside the
blurred mask are laid over the result. The result has the original image's size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps

from engine.generation.img2img import MaskSet, resize_image
from engine.jobs import GenParams

Box = tuple[int, int, int, int]


@dataclass
class Plan:
    """Images to start from at the job's size, the mask there, and how to finish the results."""

    sources: list[Image.Image]
    masks: MaskSet
    finish: Callable[[list[Image.Image]], list[Image.Image]]


def mask_box(mask: Image.Image, padding: int) -> Box | None:
    box = mask.point(lambda v: 255 if v > 0 else 0).getbbox()
    if box is None:
        return None
    x1, y1, x2, y2 = box
    return (max(x1 - padding, 0), max(y1 - padding, 0),
            min(x2 + padding, mask.width), min(y2 + padding, mask.height))


def widen(box: Box, width: int, height: int, image_w: int, image_h: int) -> Box:
    """Grow ``box`` to the aspect ratio width:height, shifted back inside the image if needed."""
    x1, y1, x2, y2 = box
    if (x2 - x1) / (y2 - y1) > width / height:
        y1, y2 = _grow(y1, y2, int((x2 - x1) * height / width), image_h)
    else:
        x1, x2 = _grow(x1, x2, int((y2 - y1) * width / height), image_w)
    return x1, y1, x2, y2


def _grow(low: int, high: int, size: int, limit: int) -> tuple[int, int]:
    extra = size - (high - low)
    low, high = low - extra // 2, high + extra - extra // 2
    if high > limit:
        low, high = low - (high - limit), limit
    if low < 0:
        low, high = 0, min(high - low, limit)
    return low, high


def plan(originals: list[Image.Image], mask: Image.Image, params: GenParams) -> Plan | None:
    """The "only masked" plan, or None when the mask is empty (plain img2img then)."""
    width, height = params.width, params.height
    mask = mask.convert("L")
    if params.inpainting_mask_invert:
        mask = ImageOps.invert(mask)
    blur = params.mask_blur
    blurred = mask.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else mask
    padding = int(params.extra.get("inpaint_full_res_padding", 32))
    box = mask_box(blurred, padding)
    if box is None:
        return None
    box = widen(box, width, height, mask.width, mask.height)
    fitted = [im if im.size == mask.size else im.resize(mask.size) for im in originals]
    sources = [resize_image(2, im.crop(box), width, height) for im in fitted]
    job_mask = resize_image(2, blurred.crop(box), width, height)
    keep = ImageOps.invert(blurred)

    def finish(results: list[Image.Image]) -> list[Image.Image]:
        return [_paste(result, original, box, keep) for result, original in zip(results, fitted, strict=True)]

    return Plan(sources, MaskSet(job_mask, ImageOps.invert(job_mask)), finish)


def _paste(result: Image.Image, original: Image.Image, box: Box, keep: Image.Image) -> Image.Image:
    x1, y1, x2, y2 = box
    canvas = original.convert("RGBA")
    canvas.paste(resize_image(1, result, x2 - x1, y2 - y1).convert("RGBA"), (x1, y1))
    top = original.convert("RGBA")
    top.putalpha(keep)
    canvas.alpha_composite(top)
    return canvas.convert("RGB")
