"""Images in and out of the API: base64 decoding with field-named errors, PNG encoding, PNG info."""

from __future__ import annotations

import base64
import io
import logging
import threading
from typing import Any

from engine.server import api_models as m
from engine.server import image_inputs
from engine.server.outputs import png_bytes

log = logging.getLogger(__name__)

DECODING = threading.BoundedSemaphore(2)  # images the HTTP threads decode at once (png-info)


def decode_image(data: str, field: str) -> Any:
    """A decoded image from base64 text (``data:image/png;base64,...`` accepted), for png-info.

    Format and size are checked from the header first (``image_inputs``); BadRequestError names
    ``field``. Generation requests do not come here: their images are decoded in the worker.
    """
    probed = image_inputs.probe(data, field)
    with DECODING:
        return image_inputs.load(probed)


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
