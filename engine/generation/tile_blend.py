"""Running an image model tile by tile within a memory budget, with feathered, seam-free blending.

The picture is cut into overlapping tiles (as few as fit the budget, spread evenly). Across each
overlap the earlier tile's weight falls linearly towards 0 while the later one's rises, and the
weights at every output pixel sum to 1 (``weights``): a model that gives the same answer on
both tiles gives the same picture as one pass over the whole image, and where tiles differ (the
edge of a tile sees less context) they cross-fade instead of meeting at a seam. Tiles are blended
one row at a time, so besides the model's own working memory only one row of tiles is held in
float; finished rows go straight into the uint8 result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TileFn = Callable[[np.ndarray], np.ndarray]  # (h, w, 3) float32 in [0, 1] -> (h*s, w*s, 3) float32
MIN_TILE = 32


@dataclass(frozen=True)
class Tiles:
    """Where the tiles of one axis start, and their common length."""

    starts: tuple[int, ...]
    size: int

    def spans(self) -> list[tuple[int, int]]:
        return [(s, s + self.size) for s in self.starts]


def split(length: int, tile: int, overlap: int) -> Tiles:
    """Tiles of at most ``tile`` covering ``length`` with at least ``overlap`` shared, spread evenly."""
    if length <= tile:
        return Tiles((0,), length)
    overlap = min(overlap, tile // 2)
    count = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (count - 1) * overlap) / count)
    starts = tuple(round(i * (length - size) / (count - 1)) for i in range(count))
    return Tiles(starts, size)


def weights(tiles: Tiles, length: int, scale: int) -> list[np.ndarray]:
    """Per tile, the output-space weight of each of its pixels along this axis.

    Rising across the overlap with the previous tile, falling across the one with the next; then
    divided by their sum, so the weights of all tiles add up to 1 at every pixel (also where a
    tile overlaps more than its neighbours). 2-D weights are products of the two axes' weights.
    """
    spans = tiles.spans()
    raw = []
    for i, (start, end) in enumerate(spans):
        w = np.ones((end - start) * scale, np.float32)
        if i > 0:
            ramp = _ramp((spans[i - 1][1] - start) * scale)
            w[: ramp.size] *= ramp
        if i + 1 < len(spans):
            ramp = _ramp((end - spans[i + 1][0]) * scale)
            w[w.size - ramp.size :] *= 1.0 - ramp
        raw.append(w)
    total = np.zeros(length * scale, np.float32)
    for (start, end), w in zip(spans, raw, strict=True):
        total[start * scale : end * scale] += w
    return [w / total[start * scale : end * scale] for (start, end), w in zip(spans, raw, strict=True)]


def _ramp(n: int) -> np.ndarray:
    return ((np.arange(n, dtype=np.float32) + 0.5) / max(n, 1)).astype(np.float32)


def run_tiled(fn: TileFn, image: np.ndarray, scale: int, tile: int, overlap: int) -> np.ndarray:
    """``image`` (h, w, 3) uint8 through ``fn`` tile by tile -> (h*scale, w*scale, 3) uint8."""
    height, width = image.shape[:2]
    rows, cols = split(height, tile, overlap), split(width, tile, overlap)
    if len(rows.starts) == len(cols.starts) == 1:
        return to_uint8(fn(to_float(image)))
    out = np.empty((height * scale, width * scale, 3), np.uint8)
    wy, wx = weights(rows, height, scale), weights(cols, width, scale)
    carry: np.ndarray | None = None
    for r, (y0, y1) in enumerate(rows.spans()):
        band = np.zeros(((y1 - y0) * scale, width * scale, 3), np.float32)
        if carry is not None:
            band[: carry.shape[0]] += carry
        for c, (x0, x1) in enumerate(cols.spans()):
            result = fn(to_float(image[y0:y1, x0:x1]))
            band[:, x0 * scale : x1 * scale] += result * wy[r][:, None, None] * wx[c][None, :, None]
        done = (rows.starts[r + 1] - y0) * scale if r + 1 < len(rows.starts) else band.shape[0]
        out[y0 * scale : y0 * scale + done] = to_uint8(band[:done])
        carry = band[done:]
    return out


def to_float(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 255.0


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    return np.clip(pixels * 255.0 + 0.5, 0, 255).astype(np.uint8)


def tile_for_budget(budget: int, per_pixel: float, scale: int, width: int, tile_max: int = 2048) -> int:
    """The largest square tile whose model memory plus one float row of results fits ``budget`` bytes.

    Model memory is ``per_pixel * tile**2`` (input pixels); the row being blended is
    ``tile * scale`` output lines of ``width * scale`` RGB float32 pixels (x2 for the product).
    """
    row = 2 * 12 * scale * scale * width  # bytes per input line of a blended row
    root = (-row + math.sqrt(row * row + 4 * per_pixel * budget)) / (2 * per_pixel)
    return int(max(MIN_TILE, min(tile_max, root)) // 8 * 8)
