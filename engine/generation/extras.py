"""The Extras tab's upscaling, as A1111's postprocessing does it, with its infotext.

Scale by a factor (``resize_mode`` 0) or to a size (1: the factor that covers the size, then a
centred crop to it when asked). ``upscaler_1`` does the work; ``upscaler_2`` at a visibility above
0 upscales the same picture too and is blended over it. ``upscaler_1`` "None" leaves the picture
as it is. The pairs returned are A1111's: ``Postprocess upscale by``, ``Postprocess upscale to``,
``Postprocess crop to``, ``Postprocess upscaler``, ``Postprocess upscaler 2`` (and its visibility).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from engine.generation.infotext import number, quote
from engine.generation.upscale import Settings, upscale
from engine.models.upscalers import Upscaler

SCALE_BY, SCALE_TO = 0, 1


@dataclass(frozen=True)
class ExtrasJob:
    resize_mode: int
    scale: float
    width: int
    height: int
    crop: bool
    upscaler_1: Upscaler
    upscaler_2: Upscaler | None = None
    visibility: float = 0.0

    def factor(self, image: Image.Image) -> float:
        """How much larger the picture becomes (for "scale to": enough to cover the size)."""
        if self.resize_mode == SCALE_TO:
            return max(self.width / image.width, self.height / image.height)
        return self.scale

    @property
    def blends(self) -> bool:
        return self.upscaler_2 is not None and self.upscaler_2.name != "None" and self.visibility > 0


def run_extras(image: Image.Image, job: ExtrasJob, settings: Settings) -> tuple[Image.Image, dict[str, str]]:
    """The upscaled picture and its postprocessing pairs (empty when nothing was done)."""
    if job.upscaler_1.name == "None":
        return image, {}
    info: dict[str, str] = {}
    result = _one(image, job, job.upscaler_1, info, settings)
    info["Postprocess upscaler"] = job.upscaler_1.name
    if job.blends:
        assert job.upscaler_2 is not None
        second = _one(image, job, job.upscaler_2, info, settings)
        result = Image.blend(result, second, job.visibility)
        info["Postprocess upscaler 2"] = job.upscaler_2.name
        info["Postprocess upscaler 2 visibility"] = number(job.visibility)
    return result, info


def _one(image: Image.Image, job: ExtrasJob, upscaler: Upscaler, info: dict[str, str], settings: Settings) -> Image.Image:
    if job.resize_mode == SCALE_TO:
        info["Postprocess upscale to"] = f"{job.width}x{job.height}"
    else:
        info["Postprocess upscale by"] = number(job.scale)
    result = upscale(image, upscaler, job.factor(image), settings)
    if job.resize_mode == SCALE_TO and job.crop:
        result = _centre_crop(result, job.width, job.height)
        info["Postprocess crop to"] = f"{job.width}x{job.height}"
    return result


def _centre_crop(image: Image.Image, width: int, height: int) -> Image.Image:
    canvas = Image.new("RGB", (width, height))
    canvas.paste(image, (width // 2 - image.width // 2, height // 2 - image.height // 2))
    return canvas


def infotext(info: dict[str, str]) -> str:
    """The pairs as one infotext line, A1111's way (values with , : or " quoted)."""
    return ", ".join(f"{key}: {quote(value)}" for key, value in info.items())


def output_size(image_size: tuple[int, int], job: ExtrasJob) -> tuple[int, int]:
    """The size the result will have (checked against the limits before any work)."""
    if job.upscaler_1.name == "None":
        return image_size
    if job.resize_mode == SCALE_TO and job.crop:
        return job.width, job.height
    width, height = image_size
    factor = max(job.width / width, job.height / height) if job.resize_mode == SCALE_TO else job.scale
    return max(int(width * factor) // 8 * 8, 8), max(int(height * factor) // 8 * 8, 8)
