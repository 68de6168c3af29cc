"""A1111 request fields and scripts that would change the picture and that Maple does not implement.

A client that sends one of them expects its effect; Maple answers 422 naming the field and saying
what it does instead, never an ordinary picture. A field at A1111's "off" value (``None``, empty,
the default number) passes, so clients that send every field with its default keep working.
Unknown always-on scripts are refused unless switched off; ControlNet's units are checked by
``engine.server.controlnet_jobs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.errors import BadRequestError

OFF_VALUES: tuple[Any, ...] = (None, "", False, 0, 0.0, [], {})
IMPLEMENTED_SCRIPTS = ("sd upscale", "SD upscale", "SD Upscale")  # run by engine.server.upscaling_jobs

# field -> (values that mean "not used", what Maple does instead)
FIELDS: dict[str, tuple[tuple[Any, ...], str]] = {
    "restore_faces": ((None, False), "Maple has no face restoration"),
    "refiner_checkpoint": ((None, "", "None"), "Maple has no refiner pass; generate with the refiner in img2img"),
    "firstpass_image": ((None, ""), "Maple's hires fix always makes its own first pass"),
    "hr_checkpoint_name": ((None, "", "Use same checkpoint"), "Maple's hires pass uses the same checkpoint"),
    "script_name": ((None, "", *IMPLEMENTED_SCRIPTS),
                    "of A1111's scripts Maple runs only SD upscale (img2img, script_name \"sd upscale\")"),
    "infotext": ((None, ""), "Maple does not read parameters from an infotext in a request; send the fields"),
    "latent_mask": ((None, ""), "Maple's inpainting uses the mask itself"),
    "s_churn": ((None, 0, 0.0), "Maple runs the samplers without churn"),
    "s_tmin": ((None, 0, 0.0), "Maple runs the samplers without churn"),
    "s_tmax": ((None, 0, 0.0), "Maple runs the samplers without churn"),
    "s_noise": ((None, 1, 1.0), "Maple's samplers use s_noise 1"),
    "s_min_uncond": ((None, 0, 0.0), "Maple always computes the negative prompt"),
    "initial_noise_multiplier": ((None, 1, 1.0), "Maple's img2img noise multiplier is 1"),
    "mask_round": ((None, True), "Maple rounds the inpainting mask as A1111 does by default"),
}
SAME_AS_REQUEST = {  # hires fields that are fine when they repeat the first pass's value
    "hr_sampler_name": ("sampler_name", ("Use same sampler",), "Maple's hires pass uses the request's sampler"),
    "hr_scheduler": ("scheduler", ("Use same scheduler",), "Maple's hires pass uses the request's schedule type"),
    "hr_prompt": ("prompt", (), "Maple's hires pass uses the request's prompt"),
    "hr_negative_prompt": ("negative_prompt", (), "Maple's hires pass uses the request's negative prompt"),
}
ETA_SAMPLERS = {"ancestral": 1.0}  # the eta Maple's ancestral and SDE samplers run


def check_request(fields: Mapping[str, Any]) -> None:
    """Raise a 422 ``BadRequestError`` for the first unimplemented field or script in ``fields``."""
    for name, (off, instead) in FIELDS.items():
        if name in fields and not _is_off(fields[name], off):
            raise BadRequestError.about(name, f"{fields[name]!r} is not supported: {instead}")
    for name, (other, same, instead) in SAME_AS_REQUEST.items():
        value = fields.get(name)
        if value not in (None, "", *same) and value != fields.get(other):
            raise BadRequestError.about(name, f"{value!r} is not supported: {instead}")
    _check_eta(fields)
    _check_mask_blur(fields)
    for script, entry in (fields.get("alwayson_scripts") or {}).items():
        _check_script(str(script), entry)


def _is_off(value: Any, off: tuple[Any, ...]) -> bool:
    return value in off


def _check_eta(fields: Mapping[str, Any]) -> None:
    from engine.generation.samplers import find_sampler, split_legacy_name

    eta = fields.get("eta")
    if eta is None:
        return
    try:
        spec = find_sampler(split_legacy_name(fields.get("sampler_name") or fields.get("sampler_index") or "Euler a")[0])
    except ValueError:
        return  # the sampler name itself is refused elsewhere
    if spec.name == "DDIM":
        if not 0 <= float(eta) <= 1:
            raise BadRequestError.about("eta", f"{eta!r} is not supported: DDIM's eta is from 0 to 1")
        expected: float | None = None  # DDIM runs the request's eta (engine.generation.timestep_samplers)
    elif spec.options.get("uses_ensd") or spec.options.get("brownian_noise"):
        expected = ETA_SAMPLERS["ancestral"]
    else:
        expected = None  # the sampler has no eta: A1111 ignores it too
    if expected is not None and float(eta) != expected:
        raise BadRequestError.about("eta", f"{eta!r} is not supported: Maple runs {spec.name} with eta {expected:g}")


def _check_mask_blur(fields: Mapping[str, Any]) -> None:
    blur = fields.get("mask_blur", 4)
    for name in ("mask_blur_x", "mask_blur_y"):
        value = fields.get(name)
        if value is not None and value not in (4, blur):
            raise BadRequestError.about(name, f"{value!r} is not supported: Maple blurs the mask by mask_blur "
                                              f"({blur}) in both directions")


def _check_script(name: str, entry: Any) -> None:
    field = f"alwayson_scripts.{name}"
    args = entry.get("args", []) if isinstance(entry, Mapping) else entry
    check = _SCRIPT_RULES.get(name.lower())
    if check is not None:
        check(field, args)
        return
    if args not in OFF_VALUES:
        raise BadRequestError.about(field, "Maple runs no A1111 extension scripts; this one is not available")


def _controlnet(field: str, args: Any) -> None:
    """ControlNet runs: its units are checked field by field by ``engine.server.controlnet_jobs``."""


def _adetailer(field: str, args: Any) -> None:
    if isinstance(args, list) and args and args[0] is False:
        return  # ADetailer switched off
    if args not in OFF_VALUES:
        raise BadRequestError.about(field, "ADetailer is not available in Maple; inpaint the face in img2img")


_SCRIPT_RULES: dict[str, Callable[[str, Any], None]] = {"controlnet": _controlnet, "adetailer": _adetailer}
