"""A1111 request -> ``GenParams``, checked in the HTTP thread so bad input never reaches the worker.

Sampler and schedule names, LoRA tags, override settings and base64 images are resolved here; each
failure is a ``BadRequestError`` / ``NotFoundError`` whose message names the field and, for unknown
names, lists what exists.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from engine.errors import BadRequestError, UnsafeNameError
from engine.jobs import GenParams, LoraRef
from engine.server import api_models as m
from engine.server.images import decode_image

LoraResolver = Callable[[LoraRef], LoraRef]  # fills path and short hash; raises NotFoundError

KNOWN_OVERRIDES = ("sd_model_checkpoint", "sd_vae", "CLIP_stop_at_last_layers")
MAX_SEED = 2**32 - 1


@dataclass
class PreparedJob:
    params: GenParams
    checkpoint: str | None = None  # override_settings: switch to this model first
    vae: str | None = None
    save_images: bool = True
    restore_afterwards: bool = True
    request: dict[str, Any] = field(default_factory=dict)


def check_name(name: str, field_name: str) -> str:
    """Refuse names that try to leave the model folders (absolute paths, ``..``, drive letters)."""
    text = name.strip()
    parts = text.replace("\\", "/").split("/")
    if text.startswith(("/", "\\")) or ".." in parts or (len(text) > 1 and text[1] == ":") or "\x00" in text:
        raise UnsafeNameError(f"{field_name}: {name!r} is not a name inside the model folders")
    return text


def sampler_and_schedule(req: m.GenerationRequest) -> tuple[str, str]:
    from engine.generation import samplers as s

    name = req.sampler_name or req.sampler_index or "Euler a"
    name, legacy_schedule = s.split_legacy_name(name)
    try:
        spec = s.find_sampler(name)
    except s.UnknownSamplerError as exc:
        raise BadRequestError(f"sampler_name: {exc}") from exc
    try:
        kind = s.find_schedule_type(req.scheduler or legacy_schedule)
    except s.UnknownSamplerError as exc:
        raise BadRequestError(f"scheduler: {exc}") from exc
    return spec.name, kind.label


def seed_of(req: m.GenerationRequest) -> int:
    return random.randint(0, MAX_SEED - 1000) if req.seed == -1 else req.seed


def _loras(prompt: str, resolve: LoraResolver) -> tuple[str, tuple[LoraRef, ...]]:
    from engine.prompts.parser import extract_loras

    text, refs = extract_loras(prompt)
    resolved = []
    for ref in refs:
        check_name(ref.name, "prompt <lora:...>")
        resolved.append(resolve(ref))
    return text, tuple(resolved)


def _overrides(req: m.GenerationRequest) -> tuple[str | None, str | None, int | None]:
    o = req.override_settings
    checkpoint = o.get("sd_model_checkpoint")
    vae = o.get("sd_vae")
    clip_skip = o.get("CLIP_stop_at_last_layers")
    if checkpoint is not None and (not isinstance(checkpoint, str) or not checkpoint):
        raise BadRequestError("override_settings.sd_model_checkpoint: must be a model name")
    if vae is not None and not isinstance(vae, str):
        raise BadRequestError("override_settings.sd_vae: must be a VAE name")
    if clip_skip is not None and (not isinstance(clip_skip, int) or not 1 <= clip_skip <= 12):
        raise BadRequestError("override_settings.CLIP_stop_at_last_layers: must be a whole number from 1 to 12")
    return checkpoint, vae, clip_skip


def _img2img(req: m.Img2ImgRequest) -> dict[str, Any]:
    if not req.init_images:
        raise BadRequestError("init_images: at least one base64 image is needed for img2img")
    images = tuple(decode_image(data, f"init_images[{i}]").convert("RGB") for i, data in enumerate(req.init_images))
    mask = decode_image(req.mask, "mask").convert("L") if req.mask else None
    return {
        "init_images": images,
        "mask": mask,
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
        raise BadRequestError(f"hr_scale: the hires pass would be larger than {m.MAX_SIDE}x{m.MAX_SIDE}")
    return {
        "enable_hr": req.enable_hr,
        "hr_scale": scale,
        "hr_upscaler": req.hr_upscaler,
        "hr_second_pass_steps": req.hr_second_pass_steps,
    }


def prepare(mode: str, req: m.GenerationRequest, resolve_lora: LoraResolver, default_clip_skip: int) -> PreparedJob:
    sampler, schedule = sampler_and_schedule(req)
    prompt, loras = _loras(req.prompt, resolve_lora)
    negative, _ = _loras(req.negative_prompt, resolve_lora)
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
        extra={"original_prompt": req.prompt, "original_negative_prompt": req.negative_prompt},
    )
    params = replace(params, **extra)
    if checkpoint:
        check_name(checkpoint.split(" [")[0], "override_settings.sd_model_checkpoint")
    if vae:
        check_name(vae, "override_settings.sd_vae")
    return PreparedJob(params, checkpoint, vae, req.save_images, req.override_settings_restore_afterwards, req.model_dump())

