"""Saving and returning Extras results, A1111-style.

Files go to ``outputs/extras-images/YYYY-MM-DD/00000-NAME.png`` (NAME: the input's file name, else
``extras``), numbered on from the highest in the folder. A picture keeps the ``parameters`` text of
the image it came from; the postprocessing text goes into an ``extras`` chunk in the saved file and
a ``postprocessing`` chunk in the returned one, as A1111 writes them.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path, PurePath
from typing import Any

from engine.server.outputs import day_dir, next_number, png_bytes, write_atomic

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\- ]+")


def file_stem(name: str) -> str:
    """A file-name-safe stem of the input's name (``extras`` when there is none)."""
    stem = _UNSAFE.sub("_", PurePath(name.replace("\\", "/")).stem).strip(" ._")[:60]
    return stem or "extras"


def save_extras(outputs: Path, images: list[Any], texts: list[str], sources: list[str], names: list[str]) -> list[Path]:
    """Write each result (worker thread); ``sources``: the inputs' ``parameters`` texts."""
    folder = day_dir(outputs, "extras")
    folder.mkdir(parents=True, exist_ok=True)
    number = next_number(folder)
    paths = []
    for i, image in enumerate(images):
        path = folder / f"{number + i:05d}-{file_stem(names[i])}.png"
        chunks = {"extras": texts[i]} if texts[i] else {}
        write_atomic(path, png_bytes(image, sources[i], chunks))
        paths.append(path)
    log.info("saved %d upscaled image(s) to %s", len(paths), folder)
    return paths


def encode_result(image: Any, text: str, source: str) -> str:
    """The result as base64 PNG with its texts."""
    import base64

    chunks = {"postprocessing": text} if text else {}
    return base64.b64encode(png_bytes(image, source, chunks)).decode("ascii")


def html_info(text: str) -> str:
    """The infotext as A1111's Extras show it: a paragraph, one line per line."""
    return "<p>" + "<br>\n".join(html.escape(line) for line in text.split("\n")) + "</p>"
