"""Drawing a scene: a picture of one shape on a plain background, drawn at twice the size and reduced
so the edges are smooth. ``outlined`` draws only the shape's thick outline, its middle left in the
background's colour (the LoRA's look); ``striped`` draws it with broad white diagonal stripes (a
texture the autoencoder also sees)."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from scripts.shapes.vocab import BACKGROUNDS, COLOURS, SIZES, Scene

SIDE = 128
_SCALE = 2


def _jitter(rgb: tuple[int, int, int], rng: random.Random, amount: int = 8) -> tuple[int, int, int]:
    r, g, b = (max(0, min(255, c + rng.randint(-amount, amount))) for c in rgb)
    return (r, g, b)


def _box(scene: Scene, rng: random.Random, side: int) -> tuple[float, float, float]:
    """Centre x, centre y and half-extent of the shape in pixels."""
    extent = SIZES[scene.size] * rng.uniform(0.92, 1.08)
    half = extent / 2
    margin = 0.05

    def centre(i: int) -> float:
        lo, hi = margin + half, 1 - margin - half
        return (lo, 0.5, hi)[i] + rng.uniform(-0.03, 0.03)

    return centre(scene.col) * side, centre(scene.row) * side, half * side


def _star(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + r * 0.06 + radius * math.sin(angle)))
    return points


def _outline(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill: int) -> None:
    box = (cx - r, cy - r, cx + r, cy + r)
    if shape in ("circle", "ring"):
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=fill)
    elif shape == "star":
        draw.polygon(_star(cx, cy, r), fill=fill)
    else:
        raise ValueError(f"no such shape {shape!r}")


OUTLINE = 0.35  # the outline's width, over the shape's half-extent


def draw_scene(scene: Scene, rng: random.Random, striped: bool = False, outlined: bool = False) -> Image.Image:
    side = SIDE * _SCALE
    background = _jitter(BACKGROUNDS[scene.background], rng)
    colour = _jitter(COLOURS[scene.colour], rng)
    picture = Image.new("RGB", (side, side), background)
    cx, cy, r = _box(scene, rng, side)
    mask = Image.new("L", (side, side), 0)
    mask_draw = ImageDraw.Draw(mask)
    _outline(mask_draw, scene.shape, cx, cy, r, 255)
    if scene.shape == "ring":
        inner = r * 0.55
        mask_draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=0)
    if outlined:
        mask = _outline_only(mask, OUTLINE * r)
    fill = Image.new("RGB", (side, side), colour)
    if striped:
        _stripes(fill, scene)
    picture.paste(fill, (0, 0), mask)
    return picture.resize((SIDE, SIDE), Image.Resampling.BOX)


def _outline_only(mask: Image.Image, width: float) -> Image.Image:
    """The band of ``mask`` within ``width`` pixels of its edge."""
    import numpy as np
    from scipy import ndimage

    inside = np.asarray(mask) > 127
    deep = ndimage.distance_transform_edt(inside) > width
    return Image.fromarray(np.where(inside & ~deep, 255, 0).astype(np.uint8), "L")


def _stripes(fill: Image.Image, scene: Scene) -> None:
    """Broad white diagonal stripes (black ones on a white or yellow shape) across the shape's colour,
    five to the picture's side: a texture among the autoencoder's pictures (it does not carry them
    well at this size, which is why the LoRA draws outlines instead)."""
    side = fill.width
    draw = ImageDraw.Draw(fill)
    stripe = (20, 20, 20) if scene.colour in ("white", "yellow") else (250, 250, 250)
    period = side // 5
    for k in range(-side, side * 2, period):
        draw.polygon([(k, 0), (k + period // 2, 0), (k + period // 2 - side, side), (k - side, side)], fill=stripe)
