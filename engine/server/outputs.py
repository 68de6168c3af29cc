"""Saving and listing generated images, A1111-style.

``outputs/<mode>-images/YYYY-MM-DD/00000-SEED.png`` with the infotext in the PNG ``parameters``
text chunk; the number continues after the highest one already in the folder. ControlNet's
detected maps follow the job's pictures as ``00001-SEED-canny.png`` (the unit's preprocessor).
Each file is written under a hidden temporary name and renamed, so a crash never leaves half a
picture under its name.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MODES = ("txt2img", "img2img", "extras")  # extras: upscaled pictures (extras_outputs)
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
NUMBERED = re.compile(r"^(\d{5,})-")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LABEL = re.compile(r"[^A-Za-z0-9_]")


def mode_dir(outputs: Path, mode: str) -> Path:
    if mode not in MODES:
        raise ValueError(f"unknown output mode {mode!r}")
    return outputs / f"{mode}-images"


def day_dir(outputs: Path, mode: str, day: dt.date | None = None) -> Path:
    return mode_dir(outputs, mode) / (day or dt.date.today()).isoformat()


def next_number(folder: Path) -> int:
    highest = -1
    if folder.is_dir():
        for entry in folder.iterdir():
            match = NUMBERED.match(entry.name)
            if match:
                highest = max(highest, int(match.group(1)))
    return highest + 1


def png_bytes(image: Any, infotext: str, chunks: dict[str, str] | None = None) -> bytes:
    """The image as PNG bytes with ``infotext`` in the ``parameters`` chunk (and ``chunks``' texts)."""
    import io

    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    if infotext:
        meta.add_text("parameters", infotext)
    for key, text in (chunks or {}).items():
        meta.add_text(key, text)
    buf = io.BytesIO()
    image.save(buf, format="PNG", pnginfo=meta)
    return buf.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside ``path`` under a hidden temporary name, then rename: never half a picture."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)  # umask applies
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_images(outputs: Path, mode: str, images: list[Any], seeds: list[int], infotexts: list[str],
                labels: list[str] | None = None) -> list[Path]:
    """Write each image (``labels[i]`` ends its name); returns the paths. Called from the worker thread only."""
    folder = day_dir(outputs, mode)
    folder.mkdir(parents=True, exist_ok=True)
    number = next_number(folder)
    paths = []
    for i, image in enumerate(images):
        seed = seeds[i] if i < len(seeds) else seeds[-1] if seeds else 0
        text = infotexts[i] if i < len(infotexts) else ""
        label = LABEL.sub("_", labels[i]) if labels and i < len(labels) and labels[i] else ""
        path = folder / f"{number + i:05d}-{seed}{'-' + label if label else ''}.png"
        write_atomic(path, png_bytes(image, text))
        paths.append(path)
    log.info("saved %d image(s) to %s", len(paths), folder)
    return paths


@dataclass(frozen=True)
class OutputImage:
    name: str
    url: str
    mode: str
    infotext: str


def list_dates(outputs: Path) -> list[str]:
    dates: set[str] = set()
    for mode in MODES:
        folder = mode_dir(outputs, mode)
        if folder.is_dir():
            dates.update(d.name for d in folder.iterdir() if d.is_dir() and DATE.match(d.name))
    return sorted(dates, reverse=True)


def read_infotext(path: Path) -> str:
    from PIL import Image

    try:
        with Image.open(path) as im:
            text, extras = im.info.get("parameters", ""), im.info.get("extras", "")
    except Exception as exc:  # an unreadable file is listed without its text
        log.debug("cannot read %s: %s", path, exc)
        return ""
    text = text if isinstance(text, str) else ""
    if isinstance(extras, str) and extras:  # an upscaled picture: its postprocessing joins the last line
        return f"{text}, {extras}" if text else extras
    return text


def list_images(outputs: Path, date: str) -> list[OutputImage]:
    if not DATE.match(date):
        raise ValueError("date must look like YYYY-MM-DD")
    found = []
    for mode in MODES:
        folder = mode_dir(outputs, mode) / date
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.png"), reverse=True):
            if path.name.startswith("."):  # a file being written, or not Maple's
                continue
            url = f"/outputs/{mode}-images/{date}/{path.name}"
            found.append(OutputImage(path.name, url, mode, read_infotext(path)))
    return found


def resolve_output(outputs: Path, rel: str) -> Path | None:
    """The image ``rel`` names inside the outputs folder, or None if it is outside, missing, hidden
    (a file being written) or not an image."""
    root = outputs.resolve()
    try:
        target = (root / rel).resolve()
    except (OSError, ValueError):
        return None
    if root not in target.parents or target.suffix.lower() not in IMAGE_TYPES or target.name.startswith("."):
        return None
    return target if target.is_file() else None
