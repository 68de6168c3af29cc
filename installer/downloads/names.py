"""Sanitising every name that comes from outside (catalog, URL, header) before it touches the disk."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from installer.errors import UnsafePathError

MAX_CHARS = 150
MAX_BYTES = 240
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]
}
_INVALID = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')


def _last_component(name: str) -> str:
    return re.split(r"[\\/]", name)[-1]


def _trim(name: str) -> str:
    """Shorten to MAX_CHARS characters and MAX_BYTES UTF-8 bytes, keeping the extension."""
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    while stem and (len(stem + suffix) > MAX_CHARS or len((stem + suffix).encode("utf-8")) > MAX_BYTES):
        stem = stem[:-1]
    return (stem.rstrip(" .") or "_") + suffix


def sanitize_filename(name: str) -> str:
    """A file name safe on Windows, macOS and Linux; raises UnsafePathError when nothing usable is left.

    Path components are dropped (only the last one is kept), characters Windows refuses become ``_``,
    leading and trailing dots and spaces go (no ``..``, no hidden files), reserved device names get a
    ``_`` prefix, and the result is cut to a sane length keeping its extension.
    """
    text = unicodedata.normalize("NFC", str(name))
    text = _INVALID.sub("_", _last_component(text)).strip().strip(".").strip()
    if not text or set(text) <= {"_", " ", "."}:
        raise UnsafePathError(f"The file name {name!r} has nothing usable in it", "Give the file a name.")
    if text.split(".")[0].strip().upper() in _RESERVED:
        text = "_" + text
    return _trim(text)


def safe_target(folder: Path, name: str) -> Path:
    """``folder / sanitize_filename(name)``, checked to be inside ``folder`` after resolving links."""
    clean = sanitize_filename(name)
    base = folder.resolve()
    target = (base / clean).resolve()
    if target.parent != base:
        raise UnsafePathError(f"The file {name!r} would land outside {folder}")
    return folder / clean
