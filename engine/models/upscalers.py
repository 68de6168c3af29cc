"""The upscalers a request can name: A1111's built-in resamplers and the model files users have.

Names are A1111's. ``None``, ``Lanczos`` and ``Nearest`` are built in. A model file in
``models/ESRGAN``, ``models/RealESRGAN``, ``models/SwinIR`` or ``models/DAT`` (of the home or a
shared A1111/秋叶 folder) is named by its file stem (``4x-UltraSharp``); the Real-ESRGAN, SwinIR
and DAT release files answer to the names A1111 gives them (``RealESRGAN_x4plus.pth`` is
``R-ESRGAN 4x+``), and to their stems too. When one stem exists as ``.safetensors`` and ``.pth``,
the ``.safetensors`` file is used. Nothing here imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from engine.models.errors import not_found_hint
from installer.errors import ModelNotFoundError

if TYPE_CHECKING:
    from engine.models.registry import ModelInfo, ModelRegistry

BUILTIN = ("None", "Lanczos", "Nearest")
# A1111's names for the release files it downloads itself: name -> (file stem, family, scale).
KNOWN_FILES: dict[str, tuple[str, str, int]] = {
    "R-ESRGAN 4x+": ("RealESRGAN_x4plus", "RealESRGAN", 4),
    "R-ESRGAN 4x+ Anime6B": ("RealESRGAN_x4plus_anime_6B", "RealESRGAN", 4),
    "R-ESRGAN 2x+": ("RealESRGAN_x2plus", "RealESRGAN", 2),
    "R-ESRGAN General 4xV3": ("realesr-general-x4v3", "RealESRGAN", 4),
    "R-ESRGAN General WDN 4xV3": ("realesr-general-wdn-x4v3", "RealESRGAN", 4),
    "R-ESRGAN AnimeVideo": ("realesr-animevideov3", "RealESRGAN", 4),
    "SwinIR 4x": ("SwinIR_4x", "SwinIR", 4),
    "DAT x2": ("DAT_x2", "DAT", 2),
    "DAT x3": ("DAT_x3", "DAT", 3),
    "DAT x4": ("DAT_x4", "DAT", 4),
}
_BY_STEM = {stem.lower(): name for name, (stem, _family, _scale) in KNOWN_FILES.items()}
_FAMILY_BY_FOLDER = {"realesrgan": "RealESRGAN", "swinir": "SwinIR", "dat": "DAT"}
_SCALE = re.compile(r"(?:^|[^a-z0-9])(?:x(\d)|(\d)x)(?:[^a-z0-9]|$)", re.IGNORECASE)
SUFFIX_ORDER = (".safetensors", ".pth", ".pt")  # preferred first


@dataclass(frozen=True)
class Upscaler:
    """One entry of A1111's upscaler list. ``path`` is None for the built-in resamplers."""

    name: str
    path: Path | None = None
    scale: int = 4  # what the name says; a model's own scale is known once it is loaded
    family: str | None = None  # A1111's ``model_name``: ESRGAN, RealESRGAN, SwinIR, DAT
    stem: str = ""

    @property
    def builtin(self) -> bool:
        return self.path is None

    def answers_to(self, text: str) -> bool:
        """True when a request naming ``text`` means this upscaler (case does not matter)."""
        wanted = text.strip().lower()
        names = {self.name.lower(), self.stem.lower()}
        if self.path is not None:
            names.add(self.path.name.lower())
        return wanted in names


def builtin_upscalers() -> list[Upscaler]:
    return [Upscaler(name, None, 4) for name in BUILTIN]


def scale_from_name(stem: str, default: int = 4) -> int:
    """``4x-UltraSharp`` -> 4, ``RealESRGAN_x2plus`` -> 2, ``DAT_x3`` -> 3; ``default`` otherwise."""
    match = _SCALE.search(stem.replace("plus", " "))
    if match is None:
        return default
    return int(match.group(1) or match.group(2))


def _family(info: ModelInfo) -> str:
    folder = info.path.parent.name.lower()
    return _FAMILY_BY_FOLDER.get(folder, "ESRGAN")


def from_file(info: ModelInfo) -> Upscaler:
    """The upscaler a model file is: A1111's built-in name for a known release file, else its stem."""
    stem = PurePosixPath(info.name).stem
    known = _BY_STEM.get(stem.lower())
    if known is not None:
        _stem, family, scale = KNOWN_FILES[known]
        return Upscaler(known, info.path, scale, family, stem)
    return Upscaler(stem, info.path, scale_from_name(stem), _family(info), stem)


def model_upscalers(infos: Iterable[ModelInfo]) -> list[Upscaler]:
    """One upscaler per name, ``.safetensors`` before ``.pth``, earlier folders first; sorted by name."""
    ranked = sorted(infos, key=lambda i: _rank(i.path.suffix))
    chosen: dict[str, Upscaler] = {}
    for info in ranked:
        upscaler = from_file(info)
        chosen.setdefault(upscaler.name.lower(), upscaler)
    return sorted(chosen.values(), key=lambda u: u.name.lower())


def _rank(suffix: str) -> int:
    lowered = suffix.lower()
    return SUFFIX_ORDER.index(lowered) if lowered in SUFFIX_ORDER else len(SUFFIX_ORDER)


def all_upscalers(registry: ModelRegistry) -> list[Upscaler]:
    """What ``/sdapi/v1/upscalers`` lists: the built-ins, then every model file found."""
    return [*builtin_upscalers(), *model_upscalers(registry.items("upscaler"))]


def find_upscaler(registry: ModelRegistry, name: str, field: str | None = None) -> Upscaler:
    """The upscaler ``name`` means; ``ModelNotFoundError`` (naming ``field``) lists what exists."""
    from engine.models.registry import check_name

    text = check_name(name or "None", field)
    known = all_upscalers(registry)
    found = next((u for u in known if u.answers_to(text)), None)
    if found is not None:
        return found
    listed = ", ".join(u.name for u in known)
    label = f"{field}: " if field else ""
    hint = _missing_hint(text)
    raise ModelNotFoundError(f"{label}No upscaler named {name!r}. Available: {listed}", hint, field=field)


def _missing_hint(text: str) -> str:
    """For A1111's built-in names, which file to get; else where upscaler files go."""
    known = next((n for n in KNOWN_FILES if n.lower() == text.lower()), None)
    if known is None:
        return not_found_hint("upscaler")
    stem = KNOWN_FILES[known][0]
    return f"{known} is the file {stem}.pth: `maple-models pull` it (see `maple-models catalog`) or put it into models/ESRGAN."
