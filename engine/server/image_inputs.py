"""Request images: looked at in the HTTP thread, decoded in the worker when their job starts.

The HTTP side only undoes the base64 and reads each image's header: its format (PNG, JPEG, WebP,
BMP or GIF; Pillow never tries any other, so no EPS, PSD or TIFF reader runs) and its size. The
count (at most ``batch_size`` init images, as A1111 says) and the pixels (per image and per
request) are refused there with a 422 naming the field, so a queued job holds compressed bytes
only and one job at a time holds decoded pixels.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from engine.errors import BadRequestError
from engine.server import api_models as m
from engine.server.limits import MAX_IMAGE_PIXELS, MAX_REQUEST_PIXELS

if TYPE_CHECKING:
    from PIL.Image import Image


FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF")
FORMAT_NAMES = "PNG, JPEG, WebP, BMP or GIF"


@dataclass(frozen=True)
class ImageInput:
    """One image of a request, not decoded yet."""

    field: str
    data: bytes
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class PendingImages:
    """An img2img request's images until the worker decodes them."""

    init_images: tuple[ImageInput, ...]
    mask: ImageInput | None = None


def _raw(data: str, field: str) -> bytes:
    text = data.partition(",")[2] if data.startswith("data:") else data
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequestError.about(field, "not valid base64") from exc
    if not raw:
        raise BadRequestError.about(field, "empty image")
    return raw


def open_image(raw: bytes, field: str) -> Image:
    """The image's header read lazily, by one of ``FORMATS``' readers only; 422s name ``field``."""
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(io.BytesIO(raw), formats=FORMATS)
    except UnidentifiedImageError as exc:
        raise BadRequestError.about(field, f"not a {FORMAT_NAMES} image") from exc
    except MemoryError:
        raise
    except Exception as exc:  # a hostile file's header can raise many types in a reader: always a 422
        raise BadRequestError.about(field, f"a damaged or oversized {FORMAT_NAMES} image ({_reason(exc)})") from exc


def _reason(exc: Exception) -> str:
    """A short cause without internals (no object addresses, no paths)."""
    text = str(exc).split(" at 0x")[0].split("\n")[0][:120]
    return text or type(exc).__name__


def probe(data: str, field: str) -> ImageInput:
    raw = _raw(data, field)
    with open_image(raw, field) as image:
        width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise BadRequestError.about(field, f"image is {width}x{height}, larger than 4096x4096 pixels")
    return ImageInput(field, raw, width, height)


def probe_request(req: m.Img2ImgRequest) -> PendingImages:
    """Check an img2img request's images without decoding them."""
    if not req.init_images:
        raise BadRequestError.about("init_images", "at least one base64 image is needed for img2img")
    if len(req.init_images) > m.MAX_BATCH_SIZE:  # refused before any is looked at
        _too_many(len(req.init_images), req.batch_size)
    images = tuple(probe(data, f"init_images[{i}]") for i, data in enumerate(req.init_images))
    if len(images) > req.batch_size:
        _too_many(len(images), req.batch_size)
    mask = probe(req.mask, "mask") if req.mask else None
    total = sum(i.pixels for i in images) + (mask.pixels if mask else 0)
    if total > MAX_REQUEST_PIXELS:
        raise BadRequestError.about("init_images", f"{total} pixels in all with the mask; at most "
                                    f"{MAX_REQUEST_PIXELS} per request (eight 2048x2048 images)")
    return PendingImages(images, mask)


def _too_many(count: int, batch_size: int) -> NoReturn:
    raise BadRequestError.about("init_images", f"{count} images for batch_size {batch_size}; "
                                "send at most batch_size images (one is used for the whole batch)")


def load(image: ImageInput) -> Image:
    """The decoded image (its text chunks in ``info``); a file that fails now is still a 422 naming its field."""
    opened = open_image(image.data, image.field)
    try:
        opened.load()
    except MemoryError:
        raise
    except Exception as exc:  # as in open_image: the reader met a damaged or hostile file
        raise BadRequestError.about(image.field, f"a damaged {FORMAT_NAMES} image ({_reason(exc)})") from exc
    return opened


def decode(image: ImageInput, mode: str) -> Image:
    with load(image) as loaded:
        return loaded.convert(mode)
