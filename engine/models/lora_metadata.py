"""A LoRA file's training metadata, as A1111's ``/sdapi/v1/loras`` shows it.

kohya's trainers write ``ss_*`` keys into the safetensors header (``ss_output_name``,
``ss_base_model_version``, ``ss_tag_frequency`` ...). Values that hold JSON objects or lists are
parsed, as A1111 does; the rest stay text. ``ss_output_name`` is the LoRA's alias. Headers are
read once per (path, size, mtime).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from installer.errors import BrokenModelError
from installer.store.modelfile import read_header

log = logging.getLogger(__name__)
_CACHE: dict[tuple[str, int, int], dict[str, Any]] = {}


def lora_metadata(path: Path) -> dict[str, Any]:
    """The header metadata of a ``.safetensors`` LoRA ({} for other files or unreadable ones)."""
    if path.suffix.lower() != ".safetensors":
        return {}
    try:
        st = path.stat()
    except OSError:
        return {}
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = _read(path)
    return dict(_CACHE[key])


def lora_alias(path: Path, metadata: dict[str, Any]) -> str:
    """A1111's alias: the trainer's output name, else the file name without extension."""
    alias = metadata.get("ss_output_name")
    return alias if isinstance(alias, str) and alias else path.stem


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = read_header(path).metadata
    except (BrokenModelError, OSError) as exc:
        log.debug("no metadata read from %s: %s", path, exc)
        return {}
    return {key: _value(value) for key, value in raw.items()}


def _value(text: str) -> Any:
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
