"""Small actions on the page shared by the browser tests."""

from __future__ import annotations

import base64
import io
from typing import Any


def set_small(page: Any, steps: int = 4, size: int = 64, batch_count: int = 1) -> None:
    """Few steps on a small image: the demo model answers in well under a second."""
    page.fill("#steps", str(steps))
    page.fill("#width", str(size))
    page.fill("#height", str(size))
    page.fill("#n_iter", str(batch_count))
    page.fill("#batch_size", "1")
    page.fill("#seed", "-1")


def generate_and_wait(page: Any, timeout: float = 120_000) -> None:
    count = page.locator("#gallery .thumb").count()
    page.click("#generate")
    page.wait_for_function(
        f"document.querySelectorAll('#gallery .thumb').length > {count} "
        "&& !document.querySelector('#generate').disabled", timeout=timeout)


def png_bytes(size: int = 64) -> bytes:
    """A colourful test picture (a gradient) as PNG bytes."""
    from PIL import Image

    img = Image.new("RGB", (size, size))
    img.putdata([(x * 4 % 256, y * 4 % 256, 128) for y in range(size) for x in range(size)])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def stage_png(page: Any) -> bytes:
    src = page.get_attribute("#stage-img", "src") or ""
    assert src.startswith("data:image/png;base64,"), src[:40]
    return base64.b64decode(src.split(",", 1)[1])


def paint(page: Any, x0: float = 0.25, y0: float = 0.25, x1: float = 0.75, y1: float = 0.7) -> None:
    """Drag the brush across the mask canvas (fractions of its size)."""
    box = page.locator("#mask-canvas").bounding_box()
    assert box, "the mask canvas is not visible"
    page.mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y0)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * x1, box["y"] + box["height"] * y1, steps=10)
    page.mouse.up()
