"""Diffusers-format model folders (``model_index.json`` plus component folders) in the store.

Such a folder is one checkpoint. Its architecture comes from its JSON files; it is not hashed
(A1111 shows no hash for folders either). A folder missing its UNet or with unreadable JSON is
listed as broken.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from installer.store.hash_cache import FileRecord

INDEX = "model_index.json"
_PIPELINES = {
    "StableDiffusionXLPipeline": "sdxl",
    "StableDiffusionXLImg2ImgPipeline": "sdxl",
    "StableDiffusionXLInpaintPipeline": "sdxl",
    "StableDiffusionInpaintPipeline": "sd1-inpaint",
}


def is_diffusers_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, INDEX))


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def _arch(folder: Path, index: dict[str, Any]) -> str:
    name = str(index.get("_class_name", ""))
    arch = _PIPELINES.get(name)
    if arch == "sdxl" and index.get("text_encoder") in (None, [None, None]):
        return "sdxl-refiner"  # the refiner has only the second text encoder
    if arch:
        return arch
    unet = _json(folder / "unet" / "config.json")
    if unet.get("in_channels") == 9:
        return "sd1-inpaint"
    return "sd2" if unet.get("cross_attention_dim") == 1024 else "sd1"


def _size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def probe_folder(folder: Path, mtime_ns: int) -> FileRecord:
    size = _size(folder)
    try:
        index = _json(folder / INDEX)
        if not (folder / "unet").is_dir():
            return FileRecord(size, mtime_ns, broken=f"{folder.name} is an incomplete diffusers folder (no unet/)")
        return FileRecord(size, mtime_ns, kind="checkpoint", arch=_arch(folder, index))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return FileRecord(size, mtime_ns, broken=f"{folder.name} has an unreadable diffusers config ({exc})")
