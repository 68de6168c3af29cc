"""A plain look at a picture of one shape: its background, its colour, which shape it is and where.

No learned model: the background is the border's median colour, the foreground every pixel far
from it; the colour is the foreground's median nearest to a named colour; the shape comes from how
much of its bounding box, of its box's corners and of its convex hull it fills, and whether its
middle is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scripts.shapes.vocab import BACKGROUNDS, COLOURS

FAR = 70.0  # RGB distance from the background that counts as foreground


@dataclass(frozen=True)
class Seen:
    colour: str
    shape: str
    background: str
    row: int
    col: int
    fill: float  # of the bounding box
    solidity: float  # of the convex hull
    hollow: bool  # its middle is empty (a ring, or any shape drawn as an outline)


def _nearest(rgb: Any, names: dict[str, tuple[int, int, int]]) -> str:
    return min(names, key=lambda n: float(np.linalg.norm(np.asarray(names[n], dtype=float) - rgb)))


def foreground(picture: Any) -> tuple[Any, Any]:
    """(mask of the shape's pixels, the background's colour)."""
    a = np.asarray(picture, dtype=float)[..., :3]
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    bg = np.median(border, axis=0)
    mask = np.linalg.norm(a - bg, axis=2) > FAR
    return _largest(mask), bg


def _largest(mask: Any) -> Any:
    from scipy import ndimage

    labels, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return labels == (int(np.argmax(sizes)) + 1)


def _solidity(mask: Any) -> float:
    from scipy.spatial import ConvexHull, QhullError

    ys, xs = np.nonzero(mask)
    points = np.concatenate([np.stack([xs + dx, ys + dy], 1) for dx in (0, 1) for dy in (0, 1)])
    try:
        hull = ConvexHull(points)
    except (QhullError, ValueError):
        return 0.0
    return float(mask.sum() / hull.volume)


def corner_fill(mask: Any) -> float:
    """How much of the four corners of the shape's box it fills: a square fills them, a circle leaves
    them empty (it reaches only 15 % of the way in along the diagonal)."""
    h, w = mask.shape
    k, j = max(1, round(0.12 * h)), max(1, round(0.12 * w))
    corners = (mask[:k, :j], mask[:k, -j:], mask[-k:, :j], mask[-k:, -j:])
    return float(np.mean([c.mean() for c in corners]))


def classify(fill: float, solidity: float, hollow: bool, corners: float) -> str:
    if hollow:
        return "ring"
    if solidity < 0.8:
        return "star"
    if fill < 0.64:
        return "triangle"
    return "square" if corners > 0.4 else "circle"


def look(picture: Any) -> Seen | None:
    """What the picture shows, or None when nothing stands out from the background."""
    a = np.asarray(picture, dtype=float)[..., :3]
    mask, bg = foreground(picture)
    if mask.sum() < 0.005 * mask.size:
        return None
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    fill = float(mask.sum() / ((y1 - y0) * (x1 - x0)))
    cy, cx = (y0 + y1) // 2, (x0 + x1) // 2
    r = max(1, (y1 - y0) // 10)
    hollow = bool(mask[cy - r:cy + r + 1, cx - r:cx + r + 1].mean() < 0.3)
    side = a.shape[0]
    row, col = (0 if c < 0.45 * side else 2 if c > 0.55 * side else 1 for c in ((y0 + y1) / 2, (x0 + x1) / 2))
    colour = _nearest(np.median(a[mask], axis=0), COLOURS)
    solidity = _solidity(mask)
    shape = classify(fill, solidity, hollow, corner_fill(mask[y0:y1, x0:x1]))
    return Seen(colour, shape, _nearest(bg, BACKGROUNDS), row, col, fill, solidity, hollow)

