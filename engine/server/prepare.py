"""A1111 request -> ``GenParams``, checked in the HTTP thread so bad input never reaches the worker.

Sampler and schedule names, prompt styles, LoRA tags, variation seeds and override settings are
resolved here, sizes checked (``limits``) and base64 images looked at (``image_inputs``; the
worker decodes them); each
failure is a ``BadRequestError`` / ``ModelNotFoundError`` / ``UnsafeNameError`` that carries the
request ``field`` and whose message starts with it and, for unknown names, lists what exists.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequestError
from engine.jobs import GenParams, LoraRef
from engine.models.registry import check_name
from engine.server import a1111_options, image_inputs, limits, request_checks
from engine.server import api_models as m

if TYPE_CHECKING:
    from engine.prompts.styles import StyleBook

LoraResolver = Callable[[LoraRef, str], LoraRef]  # (ref, request field) -> path and short hash filled in

KNOWN_OVERRIDES = ("sd_model_checkpoint", "sd_vae", "CLIP_stop_at_last_layers", "randn_source", "eta_noise_seed_delta")
MAX_SEED = 2**32 - 1


@dataclass
class PreparedJob:
    params: GenParams
    checkpoint: str | None = None  # override_settings: switch to this model first
    vae: str | None = None
    save_images: bool = True
    restore_afterwards: bool = True
    request: dict[str, Any] = field(default_factory=dict)
    images: image_inputs.PendingImages | None = None  # decoded in the worker (image_inputs.materialize)


def sampler_and_schedule(req: m.GenerationRequest) -> tuple[str, str]:
    from engine.generation import samplers as s

    name = req.sampler_name or req.sampler_index or "Euler a"
    name, legacy_schedule = s.split_legacy_name(name)
    try:
        spec = s.find_sampler(name)
    except s.UnknownSamplerError as exc:
        raise BadRequestError.about("sampler_name", str(exc)) from exc
    try:
        kind = s.find_schedule_type(req.scheduler or legacy_schedule)
    except s.UnknownSamplerError as exc:
        raise BadRequestError.about("scheduler", str(exc)) from exc
    return spec.name, kind.label


def seed_of(req: m.GenerationRequest) -> int:
    return random.randint(0, MAX_SEED - 1000) if req.seed == -1 else req.seed


def _loras(prompt: str, resolve: LoraResolver, field_name: str) -> tuple[str, tuple[LoraRef, ...]]:
    """``prompt`` without its ``<lora:NAME:w>`` tags, and the LoRAs they name (``field_name``: where from)."""
    from engine.prompts.parser import extract_loras

    text, refs = extract_loras(prompt)
    resolved = []
    for ref in refs:
        check_name(ref.name, field_name)
        resolved.append(resolve(ref, field_name))
    return text, tuple(resolved)


def _overrides(req: m.GenerationRequest) -> tuple[str | None, str | None, int | None]:
    o = req.override_settings
    checkpoint = o.get("sd_model_checkpoint")
    vae = o.get("sd_vae")
    clip_skip = o.get("CLIP_stop_at_last_layers")
    if checkpoint is not None and (not isinstance(checkpoint, str) or not checkpoint):
        raise BadRequestError.about("override_settings.sd_model_checkpoint", "must be a model name")
    if vae is not None and not isinstance(vae, str):
        raise BadRequestError.about("override_settings.sd_vae", "must be a VAE name")
    if clip_skip is not None and (not isinstance(clip_skip, int) or not 1 <= clip_skip <= 12):
        raise BadRequestError.about("override_settings.CLIP_stop_at_last_layers", "must be a whole number from 1 to 12")
    return checkpoint, vae, clip_skip


def _img2img(req: m.Img2ImgRequest) -> dict[str, Any]:
    return {
        "mask_blur": req.mask_blur,
        "inpainting_fill": req.inpainting_fill,
        "inpainting_mask_invert": bool(req.inpainting_mask_invert),
        "inpaint_full_res": req.inpaint_full_res,
        "resize_mode": req.resize_mode,
    }


def _hr_scale(req: m.Txt2ImgRequest) -> float:
    """A1111's ``hr_resize_x/y`` (a target size) win over ``hr_scale`` when given."""
    if req.hr_resize_x <= 0 and req.hr_resize_y <= 0:
        return req.hr_scale
    return max(req.hr_resize_x / req.width, req.hr_resize_y / req.height, 1.0)


def _txt2img(req: m.Txt2ImgRequest) -> dict[str, Any]:
    scale = _hr_scale(req)
    if req.enable_hr and max(req.width, req.height) * scale > m.MAX_SIDE:
        raise BadRequestError.about("hr_scale", f"the hires pass would be larger than {m.MAX_SIDE}x{m.MAX_SIDE}")
    return {
        "enable_hr": req.enable_hr,
        "hr_scale": scale,
        "hr_upscaler": req.hr_upscaler,
        "hr_second_pass_steps": req.hr_second_pass_steps,
    }


def _styled(req: m.GenerationRequest, styles: StyleBook | None) -> tuple[str, str]:
    """The prompt and negative prompt with the request's ``styles`` applied (A1111 order)."""
    if not req.styles:
        return req.prompt, req.negative_prompt
    if styles is None:
        raise BadRequestError.about("styles", "this engine has no prompt styles")
    return styles.apply(req.prompt, req.negative_prompt, req.styles)


def _variation(req: m.GenerationRequest) -> dict[str, Any]:
    """Variation seed (a random one for -1, as A1111), its strength, seed resize and tiling."""
    subseed = random.randint(0, MAX_SEED) if req.subseed == -1 else req.subseed
    return {"subseed": subseed, "subseed_strength": req.subseed_strength,
            "seed_resize_from_w": max(req.seed_resize_from_w, 0), "seed_resize_from_h": max(req.seed_resize_from_h, 0),
            "tiling": req.tiling, "styles": tuple(req.styles)}


def _noise(req: m.GenerationRequest, defaults: tuple[str, int]) -> dict[str, Any]:
    """The noise source and eta noise seed delta: ``override_settings``, else the engine's settings."""
    o = req.override_settings
    source = a1111_options.randn_source(o["randn_source"], "override_settings.randn_source") \
        if "randn_source" in o else defaults[0]
    delta = a1111_options.eta_noise_seed_delta(o["eta_noise_seed_delta"], "override_settings.eta_noise_seed_delta") \
        if "eta_noise_seed_delta" in o else defaults[1]
    return {"randn_source": source, "eta_noise_seed_delta": delta}


def prepare(mode: str, req: m.GenerationRequest, resolve_lora: LoraResolver, default_clip_skip: int,
            styles: StyleBook | None = None, noise_defaults: tuple[str, int] = ("GPU", 0)) -> PreparedJob:
    limits.check_generation(req)
    request_checks.check_request(req.model_dump())
    a1111_options.check_fixed(req.override_settings, "override_settings.")
    images = image_inputs.probe_request(req) if isinstance(req, m.Img2ImgRequest) else None
    sampler, schedule = sampler_and_schedule(req)
    styled, styled_negative = _styled(req, styles)
    prompt, loras = _loras(styled, resolve_lora, "prompt")
    negative, _ = _loras(styled_negative, resolve_lora, "negative_prompt")
    if (req.model_extra or {}).get("disable_extra_networks"):
        loras = ()  # as A1111: the <lora:...> tags leave the prompt and nothing is applied
    checkpoint, vae, clip_skip = _overrides(req)
    extra = _img2img(req) if isinstance(req, m.Img2ImgRequest) else _txt2img(req) if isinstance(req, m.Txt2ImgRequest) else {}
    default_strength = 0.75 if mode == "img2img" else 0.7
    params = GenParams(
        mode="img2img" if mode == "img2img" else "txt2img",
        prompt=prompt,
        negative_prompt=negative,
        loras=loras,
        seed=seed_of(req),
        sampler_name=sampler,
        scheduler=schedule,
        steps=req.steps,
        cfg_scale=req.cfg_scale,
        width=req.width,
        height=req.height,
        batch_size=req.batch_size,
        n_iter=req.n_iter,
        clip_skip=clip_skip or default_clip_skip,
        denoising_strength=req.denoising_strength if req.denoising_strength is not None else default_strength,
        extra={"original_prompt": styled, "original_negative_prompt": styled_negative,
               "request_prompt": req.prompt, "request_negative_prompt": req.negative_prompt},
    )
    params = replace(params, **extra, **_variation(req), **_noise(req, noise_defaults))
    eta = (req.model_extra or {}).get("eta")
    if sampler == "DDIM" and isinstance(eta, int | float) and not isinstance(eta, bool) and 0 <= eta <= 1:
        params.extra["eta"] = float(eta)  # A1111's DDIM eta (its default 0 is eta_ddim's)
    if checkpoint:
        check_name(checkpoint, "override_settings.sd_model_checkpoint")
    if vae:
        check_name(vae, "override_settings.sd_vae")
    return PreparedJob(params, checkpoint, vae, req.save_images, req.override_settings_restore_afterwards, req.model_dump(),
                       images)


def materialize(job: PreparedJob) -> PreparedJob:
    """In the worker, as the job starts: ``job`` with its images decoded into its parameters."""
    pending = job.images
    if pending is None:
        return job
    inits = tuple(image_inputs.decode(image, "RGB") for image in pending.init_images)
    mask = image_inputs.decode(pending.mask, "L") if pending.mask else None
    return replace(job, params=replace(job.params, init_images=inits, mask=mask), images=None)
