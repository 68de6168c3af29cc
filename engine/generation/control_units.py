"""ControlNet units as a job carries them, and the infotext the extension writes for each.

A ``ControlUnit`` is one resolved unit of a request: its preprocessor, its model file, its
picture (still compressed: it is decoded in the worker when the job starts) and its settings,
with the sd-webui-controlnet extension's names. A unit given a list of pictures keeps the second
and later ones in ``later_pictures``: picture i of a batch is guided by picture i of the list
(the last one guides the rest). A job keeps its units in
``GenParams.extra[EXTRA_KEY]``. Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.jobs import GenParams

EXTRA_KEY = "controlnet"
RESIZE_MODES = ("Just Resize", "Crop and Resize", "Resize and Fill")
CONTROL_MODES = ("Balanced", "My prompt is more important", "ControlNet is more important")
HR_OPTIONS = ("Both", "Low res only", "High res only")


@dataclass(frozen=True)
class ControlUnit:
    module: str = "none"
    model: str = ""  # the title the model list shows: "control_v11p_sd15_canny [d14c016b]"
    model_path: str = ""
    image: bytes | None = None  # the unit's picture, compressed; None: the job's init image
    mask: bytes | None = None
    later_pictures: tuple[tuple[bytes, bytes | None], ...] = ()  # (picture, its own mask) 2, 3 ... of a list
    weight: float = 1.0
    resize_mode: str = "Crop and Resize"
    processor_res: int = 512
    threshold_a: float = -1.0
    threshold_b: float = -1.0
    guidance_start: float = 0.0
    guidance_end: float = 1.0
    pixel_perfect: bool = False
    control_mode: str = "Balanced"
    hr_option: str = "Both"
    low_vram: bool = False
    save_detected_map: bool = True
    index: int = 0  # the unit's place in the request's list (named in the infotext)
    weight_folders: tuple[str, ...] = ()  # where a network preprocessor's weights may be

    def pictures(self) -> list[tuple[bytes | None, bytes | None]]:
        """(picture, mask) per picture of the unit, in batch order; None: the job's own."""
        return [(self.image, self.mask), *self.later_pictures]

    def active_at(self, progress: float) -> bool:
        """Whether the unit guides a step that starts at ``progress`` (0 .. 1) of its pass."""
        return self.guidance_start <= progress <= self.guidance_end

    def applies_to_pass(self, hires_pass: bool) -> bool:
        if hires_pass:
            return self.hr_option != "Low res only"
        return self.hr_option != "High res only"


def _number(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else repr(float(value))


def unit_infotext(unit: ControlUnit, hires: bool) -> str:
    """``Module: canny, Model: ..., Weight: 1, ...`` (sliders a module does not have are left out)."""
    from engine.generation.preprocessors import find_module

    module = find_module(unit.module)
    values: list[tuple[str, Any]] = [
        ("Module", unit.module), ("Model", unit.model or "None"), ("Weight", _number(unit.weight)),
        ("Resize Mode", unit.resize_mode), ("Low Vram", unit.low_vram),
        ("Processor Res", unit.processor_res if module.resolution else None),
        ("Threshold A", _number(unit.threshold_a) if module.threshold_a and unit.threshold_a >= 0 else None),
        ("Threshold B", _number(unit.threshold_b) if module.threshold_b and unit.threshold_b >= 0 else None),
        ("Guidance Start", _number(unit.guidance_start)), ("Guidance End", _number(unit.guidance_end)),
        ("Pixel Perfect", unit.pixel_perfect), ("Control Mode", unit.control_mode),
        ("Hr Option", unit.hr_option if hires else None), ("Save Detected Map", unit.save_detected_map),
    ]
    return ", ".join(f"{key}: {value}" for key, value in values if value is not None)


def units_of(params: GenParams) -> tuple[ControlUnit, ...]:
    units = params.extra.get(EXTRA_KEY, ())
    return tuple(units)


def infotext_fields(params: GenParams) -> dict[str, str]:
    """``ControlNet 0``, ``ControlNet 1`` ... for the job's units, in the request's numbering."""
    hires = params.mode == "txt2img" and params.enable_hr
    return {f"ControlNet {u.index}": unit_infotext(u, hires) for u in units_of(params)}
