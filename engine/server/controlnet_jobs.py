"""``alwayson_scripts.controlnet`` units, checked in the HTTP thread and attached to the job.

The units have the sd-webui-controlnet extension's field names (its older aliases too:
``input_image``, ``mask_image``, ``lowvram``, ``guidance``, ``guessmode``); ``resize_mode`` and
``control_mode`` may be the index or the name. ``image`` may be a list (one picture, or
{image, mask}, per picture of the batch; the last one guides the rest), at most ``batch_size``
long. A field Maple does not implement is a 422 naming it; a few fields of the extension's own
UI are taken only at their default value. The other ``alwayson_scripts`` entries are
``engine.server.request_checks``' business.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequestError
from engine.generation import annotators
from engine.generation.control_units import (
    CONTROL_MODES,
    EXTRA_KEY,
    HR_OPTIONS,
    RESIZE_MODES,
    ControlUnit,
)
from engine.generation.preprocessors import find_module
from engine.server import api_models as m
from engine.server.image_inputs import probe

if TYPE_CHECKING:
    from engine.models.registry import ModelRegistry
    from engine.server.prepare import PreparedJob

SCRIPT = "controlnet"
MAX_UNITS = 8
RESIZE_ALIASES = {"envelope (outer fit)": "Resize and Fill", "scale to fit (inner fit)": "Crop and Resize",
                  "outer fit": "Resize and Fill", "inner fit": "Crop and Resize"}
NO_MODEL = ("", "none", "None")
# Fields of the extension's own UI: accepted at these values only (anything else changes what it does).
DEFAULT_ONLY: dict[str, tuple[Any, ...]] = {
    "input_mode": ("simple", "Simple", 0), "batch_images": ("", None), "batch_image_dir": ("", None),
    "batch_mask_dir": ("", None), "batch_input_gallery": (None, []), "batch_mask_gallery": (None, []),
    "output_dir": ("", None), "loopback": (False, None), "is_ui": (False, True, None),
    "advanced_weighting": (None,), "effective_region_mask": (None,), "ipadapter_input": (None,),
    "animatediff_batch": (False, None), "batch_modifiers": (None, []), "union_control_type": ("Unknown", None),
    "inpaint_crop_input_image": (False, True, None), "generated_image": (None,), "use_preview_as_input": (False, None),
}
KNOWN = {"enabled", "module", "model", "weight", "image", "input_image", "mask", "mask_image", "resize_mode",
         "low_vram", "lowvram", "processor_res", "threshold_a", "threshold_b", "guidance_start", "guidance_end",
         "guidance", "control_mode", "guessmode", "pixel_perfect", "hr_option", "save_detected_map"}


def resolve(job: PreparedJob, req: Any, registry: ModelRegistry) -> PreparedJob:
    """``job`` with the request's enabled ControlNet units in ``params.extra``."""
    scripts = getattr(req, "alwayson_scripts", None)
    if scripts is None:
        return job
    if not isinstance(scripts, dict):
        raise BadRequestError.about("alwayson_scripts", "must be an object of {script name: {args: [...]}}")
    units: list[ControlUnit] = []
    for name, value in scripts.items():
        if str(name).strip().lower() == SCRIPT:  # the others: engine.server.request_checks
            units.extend(parse_units(value, registry))
    folders = weight_folders_of(registry)
    units = [replace(u, weight_folders=folders) for u in units]
    for unit in units:
        if unit.image is None and job.params.mode == "txt2img":
            raise BadRequestError.about(f"alwayson_scripts.controlnet.args[{unit.index}].image",
                                        "this unit needs a picture (only img2img can use its init image instead)")
        if len(unit.pictures()) > job.params.batch_size:
            raise BadRequestError.about(f"alwayson_scripts.controlnet.args[{unit.index}].image",
                                        f"{len(unit.pictures())} pictures for a batch of {job.params.batch_size}: "
                                        "give one picture per picture of the batch at most (the last one guides the rest)")
    params = replace(job.params, extra={**job.params.extra, EXTRA_KEY: tuple(units)})
    return replace(job, params=params)


def weight_folders_of(registry: ModelRegistry) -> tuple[str, ...]:
    """The folders network preprocessors' weights are looked for in (the home's, the shared ones')."""
    store = registry.store
    return annotators.weight_folders(store.home.root, store.shared_folders)


def parse_units(value: Any, registry: ModelRegistry) -> list[ControlUnit]:
    args = value.get("args") if isinstance(value, dict) else value
    if not isinstance(args, list):
        raise BadRequestError.about("alwayson_scripts.controlnet.args", "must be a list of ControlNet units")
    if len(args) > MAX_UNITS:
        raise BadRequestError.about("alwayson_scripts.controlnet.args", f"at most {MAX_UNITS} units")
    units = [parse_unit(raw, i, registry) for i, raw in enumerate(args)]
    return [u for u in units if u is not None]


def parse_unit(raw: Any, index: int, registry: ModelRegistry | None) -> ControlUnit | None:
    """One unit (None when disabled); ``registry`` None: a /controlnet/detect unit (no model)."""
    where = f"alwayson_scripts.controlnet.args[{index}]"
    if not isinstance(raw, dict):
        raise BadRequestError.about(where, "a unit must be an object with the extension's field names")
    _refuse_unknown(raw, where)
    if not _bool(raw.get("enabled", True), f"{where}.enabled"):
        return None
    found = find_module(_text(raw.get("module"), "none"), f"{where}.module")
    module = found.name
    image, mask, later = _pictures(raw, where)
    if later and found.model_free:
        raise BadRequestError.about(f"{where}.image", f"the {module} preprocessor takes one picture, not a list")
    if found.model_free:
        model, path = _no_model(raw.get("model"), f"{where}.model", module)
    else:
        model, path = _model(raw.get("model"), f"{where}.model", registry)
    guidance_end = raw.get("guidance_end", raw.get("guidance", 1.0))
    return ControlUnit(
        module=module, model=model, model_path=path, image=image, mask=mask, later_pictures=later,
        weight=_number(raw.get("weight", 1.0), f"{where}.weight", 0.0, 2.0),
        resize_mode=_choice(raw.get("resize_mode", "Crop and Resize"), RESIZE_MODES, f"{where}.resize_mode",
                            RESIZE_ALIASES),
        processor_res=_resolution(raw.get("processor_res", 512), f"{where}.processor_res"),
        threshold_a=_number(raw.get("threshold_a", -1), f"{where}.threshold_a", -1.0, 1024.0),
        threshold_b=_number(raw.get("threshold_b", -1), f"{where}.threshold_b", -1.0, 1024.0),
        guidance_start=_number(raw.get("guidance_start", 0.0), f"{where}.guidance_start", 0.0, 1.0),
        guidance_end=_number(guidance_end, f"{where}.guidance_end", 0.0, 1.0),
        pixel_perfect=_bool(raw.get("pixel_perfect", False), f"{where}.pixel_perfect"),
        control_mode=_control_mode(raw, where),
        hr_option=_choice(raw.get("hr_option", "Both"), HR_OPTIONS, f"{where}.hr_option"),
        low_vram=_bool(raw.get("low_vram", raw.get("lowvram", False)), f"{where}.low_vram"),
        save_detected_map=_bool(raw.get("save_detected_map", True), f"{where}.save_detected_map"),
        index=index,
    )


def _refuse_unknown(raw: dict[str, Any], where: str) -> None:
    unknown = [k for k in raw if k not in KNOWN and k not in DEFAULT_ONLY]
    if unknown:
        raise BadRequestError.about(f"{where}.{unknown[0]}", f"Maple does not support the unit field(s) {', '.join(unknown)}")
    changed = [k for k, allowed in DEFAULT_ONLY.items() if k in raw and raw[k] not in allowed]
    if changed:
        raise BadRequestError.about(f"{where}.{changed[0]}", f"Maple supports {changed[0]} only at its default "
                                    f"({DEFAULT_ONLY[changed[0]][0]!r}); {raw[changed[0]]!r} is not supported")


def _pictures(raw: dict[str, Any], where: str) -> tuple[bytes | None, bytes | None, tuple[tuple[bytes, bytes | None], ...]]:
    """(first picture, its mask, the later pictures of a list with their masks); None: not given."""
    name = "image" if raw.get("image") not in (None, "") else "input_image"
    value = raw.get(name)
    mask_value = raw.get("mask") if raw.get("mask") not in (None, "") else raw.get("mask_image")
    unit_mask = _picture(mask_value, f"{where}.mask")
    if not isinstance(value, list):
        return (*_one_picture(value, f"{where}.{name}", unit_mask), ())
    if len(value) > m.MAX_BATCH_SIZE:
        raise BadRequestError.about(f"{where}.{name}", f"at most {m.MAX_BATCH_SIZE} pictures (one per picture of the batch)")
    pictures = [_one_picture(item, f"{where}.{name}[{i}]", unit_mask) for i, item in enumerate(value)]
    later: list[tuple[bytes, bytes | None]] = []
    for i, (image, mask) in enumerate(pictures):
        if image is None:
            raise BadRequestError.about(f"{where}.{name}[{i}]", "each entry of the list must be a picture")
        if i:
            later.append((image, mask))
    if not pictures:
        return None, unit_mask, ()
    return pictures[0][0], pictures[0][1], tuple(later)


def _one_picture(value: Any, field: str, unit_mask: bytes | None) -> tuple[bytes | None, bytes | None]:
    """A base64 picture or {image, mask}: (picture, its own mask, else the unit's)."""
    mask = unit_mask
    if isinstance(value, dict):
        mask = _picture(value.get("mask"), f"{field}.mask") or unit_mask
        value = value.get("image")
    if value not in (None, "") and not isinstance(value, str):
        raise BadRequestError.about(field, "must be a base64 picture, {image, mask} or a list of them")
    return _picture(value, field), mask


def _picture(value: Any, field: str) -> bytes | None:
    return probe(value, field).data if isinstance(value, str) and value else None


def _model(value: Any, field: str, registry: ModelRegistry | None) -> tuple[str, str]:
    if registry is None:
        return "", ""
    name = _text(value, "")
    if name in NO_MODEL:
        raise BadRequestError.about(field, "choose a ControlNet model (GET /controlnet/model_list)")
    info = registry.with_hash(registry.find("controlnet", name, field))
    return model_title(info), str(info.path)


def _no_model(value: Any, field: str, module: str) -> tuple[str, str]:
    """A model-free module's unit: its model must be "None" (a named one would go unused)."""
    if _text(value, "") not in NO_MODEL:
        raise BadRequestError.about(field, f"the {module} preprocessor uses no ControlNet model: send \"None\"")
    return "", ""


def model_title(info: Any) -> str:
    """The extension's list entry: ``control_v11p_sd15_canny [d14c016b]`` (no hash until one is known)."""
    stem = str(info.model_name)
    return f"{stem} [{info.sha256[:8]}]" if info.sha256 else stem


def _text(value: Any, default: str) -> str:
    return default if value is None else str(value).strip()


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise BadRequestError.about(field, f"must be true or false (got {value!r})")


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= float(value) <= high:
        raise BadRequestError.about(field, f"must be a number from {low:g} to {high:g} (got {value!r})")
    return float(value)


def _resolution(value: Any, field: str) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value) == -1:
        return 512  # the extension's "default"
    number = _number(value, field, 64, 2048)
    return int(number)


def _choice(value: Any, names: tuple[str, ...], field: str, aliases: dict[str, str] | None = None) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    if isinstance(value, str):
        for name in names:
            if value.strip().lower() == name.lower():
                return name
        if aliases and value.strip().lower() in aliases:
            return aliases[value.strip().lower()]
    raise BadRequestError.about(field, f"must be one of {', '.join(names)} (or its index; got {value!r})")


def _control_mode(raw: dict[str, Any], where: str) -> str:
    if "control_mode" not in raw and raw.get("guessmode"):
        return CONTROL_MODES[2]
    return _choice(raw.get("control_mode", 0), CONTROL_MODES, f"{where}.control_mode")
