"""Maple's Windows icon (``.ico``), drawn from ``assets/icons/maple.svg`` at each size.

Each size is rendered from the SVG (crisper than scaling one bitmap) with Qt's SVG renderer and
stored as a PNG entry, which every supported Windows reads.
"""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path

SIZES = (16, 20, 24, 32, 40, 48, 64, 256)
_APP: list[object] = []


def render_png(svg: Path, size: int) -> bytes:
    """One square PNG of the SVG at ``size`` pixels, transparent around the shape."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _APP.append(QGuiApplication.instance() or QGuiApplication([]))  # painting needs one, kept alive
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / f"{size}.png"
        if not image.save(str(png)):  # the format follows the .png suffix
            raise OSError(f"Qt could not write {png}")
        return png.read_bytes()


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file holding ``pngs`` (size -> PNG bytes)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = [], []
    for size in sizes:
        blob = pngs[size]
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries.append(struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset))
        blobs.append(blob)
        offset += len(blob)
    return header + b"".join(entries) + b"".join(blobs)


def write_ico(svg: Path, target: Path) -> Path:
    target.write_bytes(ico_bytes({size: render_png(svg, size) for size in SIZES}))
    return target
