"""A generation request's upscaling parts, checked in the HTTP thread: ``hr_upscaler`` and SD upscale.

``hr_upscaler`` may be a latent mode or any upscaler ``/sdapi/v1/upscalers`` lists; it is stored
under its A1111 name with its model file. ``script_name: "sd upscale"`` (img2img only) takes A1111's
``script_args`` ``[info, overlap, upscaler_index, scale_factor]``; the upscaler may also be given
by name. Every problem is a 4xx naming the field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequestError
from engine.generation.hires import LATENT_UPSCALERS
from engine.generation.sd_upscale import EXTRA_KEY, SdUpscale
from engine.models.upscalers import Upscaler, all_upscalers, find_upscaler

if TYPE_CHECKING:
    from engine.models.registry import ModelRegistry
    from engine.server.prepare import PreparedJob

SD_UPSCALE = "sd upscale"
SD_UPSCALE_DEFAULTS = (None, 64, 0, 2.0)  # info, overlap, upscaler index, scale factor
MAX_SD_UPSCALE = 4.0


def resolve(job: PreparedJob, req: Any, registry: ModelRegistry) -> PreparedJob:
    """``job`` with its hires upscaler resolved and, for SD upscale, the script's plan attached."""
    params = job.params
    if params.mode == "txt2img" and params.enable_hr and params.hr_upscaler not in LATENT_UPSCALERS:
        upscaler = find_upscaler(registry, params.hr_upscaler, "hr_upscaler")
        params = replace(params, hr_upscaler=upscaler.name, hr_upscaler_path=str(upscaler.path or ""))
    script = getattr(req, "script_name", None)
    if isinstance(script, str) and script.strip().lower() == SD_UPSCALE:
        if params.mode != "img2img":
            raise BadRequestError.about("script_name", "SD upscale is an img2img script: send it to /sdapi/v1/img2img")
        plan = sd_upscale_plan(getattr(req, "script_args", None) or [], registry)
        params = replace(params, extra={**params.extra, EXTRA_KEY: plan})
    return replace(job, params=params)


def sd_upscale_plan(args: Any, registry: ModelRegistry) -> SdUpscale:
    if not isinstance(args, list) or len(args) > len(SD_UPSCALE_DEFAULTS):
        raise BadRequestError.about("script_args", "SD upscale takes [info, overlap, upscaler_index, scale_factor]")
    values: list[Any] = [*args, *SD_UPSCALE_DEFAULTS[len(args):]]
    _info, overlap, chosen, scale = values
    if not isinstance(overlap, int) or isinstance(overlap, bool) or not 0 <= overlap <= 256:
        raise BadRequestError.about("script_args[1]", "the overlap must be a whole number of pixels from 0 to 256")
    if not isinstance(scale, int | float) or isinstance(scale, bool) or not 1.0 <= float(scale) <= MAX_SD_UPSCALE:
        raise BadRequestError.about("script_args[3]", f"the scale factor must be a number from 1 to {MAX_SD_UPSCALE:g}")
    upscaler = _chosen_upscaler(chosen, registry)
    return SdUpscale(overlap, upscaler.name, str(upscaler.path or ""), float(scale))


def _chosen_upscaler(chosen: Any, registry: ModelRegistry) -> Upscaler:
    """A1111 sends the upscaler's index in the upscaler list; a name is taken too."""
    if isinstance(chosen, str):
        return find_upscaler(registry, chosen, "script_args[2]")
    listed = all_upscalers(registry)
    if not isinstance(chosen, int) or isinstance(chosen, bool) or not 0 <= chosen < len(listed):
        names = ", ".join(f"{i}: {u.name}" for i, u in enumerate(listed))
        raise BadRequestError.about("script_args[2]", f"no upscaler has index {chosen!r}; the list is {names}")
    return listed[chosen]


def sd_upscale_info(registry: ModelRegistry) -> dict[str, Any]:
    """SD upscale as A1111's ``/script-info`` describes a script: its arguments in order."""
    names = [u.name for u in all_upscalers(registry)]
    return {"name": SD_UPSCALE, "is_alwayson": False, "is_img2img": True, "args": [
        {"label": "", "value": None},
        {"label": "Tile overlap", "value": 64, "minimum": 0, "maximum": 256, "step": 16},
        {"label": "Upscaler", "value": names[0], "choices": names},
        {"label": "Scale Factor", "value": 2.0, "minimum": 1.0, "maximum": MAX_SD_UPSCALE, "step": 0.05},
    ]}
