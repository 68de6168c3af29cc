"""Images in and out of the API: base64 decoding with field-named errors, PNG encoding, PNG info."""

from __future__ import annotations

import base64
import binascii
import io
import logging
from typing import Any

from engine.errors import BadRequestError
from engine.server import api_models as m
from engine.server.outputs import png_bytes

log = logging.getLogger(__name__)

MAX_PIXELS = 4096 * 4096


def _strip_prefix(data: str) -> str:
    if data.startswith("data:"):
        _, _, data = data.partition(",")
    return data.strip()


def decode_image(data: str, field: str) -> Any:
    """A PIL image from base64 text (``data:image/png;base64,...`` accepted); BadRequestError names ``field``."""
    from PIL import Image, UnidentifiedImageError

    try:
        raw = base64.b64decode(_strip_prefix(data), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequestError(f"{field}: not valid base64 ({exc})") from exc
    if not raw:
        raise BadRequestError(f"{field}: empty image")
    try:
        image = Image.open(io.BytesIO(raw))
        if image.width * image.height > MAX_PIXELS:
            raise BadRequestError(f"{field}: image is {image.width}x{image.height}, larger than 4096x4096")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadRequestError(f"{field}: not an image Pillow can read ({exc})") from exc
    return image


def encode_png(image: Any, infotext: str = "") -> str:
    return base64.b64encode(png_bytes(image, infotext)).decode("ascii")


def encode_all(images: list[Any], infotexts: list[str]) -> list[str]:
    return [encode_png(im, infotexts[i] if i < len(infotexts) else "") for i, im in enumerate(images)]


def encode_preview(image: Any) -> str:
    """The live preview as base64 PNG, compressed lightly so /progress stays cheap."""
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", compress_level=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _parse_infotext(text: str) -> dict[str, Any]:
    try:
        from engine.generation import infotext
    except ImportError:
        return {}
    parsed: dict[str, Any] = infotext.parse(text)
    return parsed


def png_info(data: str) -> m.PngInfoResponse:
    image = decode_image(data, "image")
    items = {k: v for k, v in image.info.items() if isinstance(v, str | int | float)}
    text = str(items.pop("parameters", "") or "")
    try:
        parameters = _parse_infotext(text) if text else {}
    except Exception as exc:  # a malformed text is shown as it is, never an error
        log.debug("infotext not parsed: %s", exc)
        parameters = {}
    return m.PngInfoResponse(info=text, items=items, parameters=parameters)
