"""What the listing endpoints return (from the model registry's last scan) and the ``info`` JSON of a generation."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.jobs import GenParams, GenResult
from engine.models.loaded import LoadedModel
from engine.server import api_models as m
from engine.version import engine_version

if TYPE_CHECKING:
    from engine.models.registry import ModelRegistry


def sd_models(registry: ModelRegistry) -> list[m.SDModelItem]:
    items = []
    for entry in registry.checkpoints():
        sha = entry.sha256
        label = f" ({entry.own_label})" if entry.is_demo else ""
        items.append(m.SDModelItem(
            title=entry.title,
            model_name=entry.model_name + label,
            hash=sha[:10] if sha else None,
            sha256=sha,
            filename=str(entry.path),
            config=None,
        ))
    return items


def sd_vaes(registry: ModelRegistry) -> list[m.SDVaeItem]:
    return [m.SDVaeItem(model_name=e.name, filename=str(e.path)) for e in registry.vaes()]


def loras(registry: ModelRegistry) -> list[m.LoraItem]:
    """A1111's LoRA list: the file's ``ss_*`` training metadata, its output name as the alias."""
    from engine.models.lora_metadata import lora_alias, lora_metadata

    out = []
    for e in registry.loras():
        metadata = lora_metadata(e.path)
        out.append(m.LoraItem(name=e.stem, alias=lora_alias(e.path, metadata), path=str(e.path), metadata=metadata))
    return out


def samplers() -> list[m.SamplerItem]:
    from engine.generation.samplers import SAMPLERS

    return [m.SamplerItem(**s.as_api()) for s in SAMPLERS]


def schedulers() -> list[m.SchedulerItem]:
    from engine.generation.samplers import SCHEDULE_TYPES

    return [m.SchedulerItem(**s.as_api()) for s in SCHEDULE_TYPES]


def info_dict(p: GenParams, result: GenResult, model: LoadedModel, started: float) -> dict[str, Any]:
    """A1111's ``info`` JSON for a finished generation."""
    n = len(result.images)
    prompt = str(p.extra.get("original_prompt", p.prompt))
    negative = str(p.extra.get("original_negative_prompt", p.negative_prompt))
    seeds, subseeds = list(result.seeds), list(result.subseeds)
    return {
        "prompt": str(p.extra.get("request_prompt", prompt)),  # as asked; all_prompts have the styles applied
        "all_prompts": [prompt] * n,
        "negative_prompt": str(p.extra.get("request_negative_prompt", negative)),
        "all_negative_prompts": [negative] * n,
        "seed": seeds[0] if seeds else p.seed,
        "all_seeds": seeds,
        "subseed": subseeds[0] if subseeds else p.subseed,
        "all_subseeds": subseeds,
        "subseed_strength": p.subseed_strength,
        "width": p.width,
        "height": p.height,
        "sampler_name": p.sampler_name,
        "scheduler": p.scheduler,
        "cfg_scale": p.cfg_scale,
        "steps": p.steps,
        "batch_size": p.batch_size,
        "n_iter": p.n_iter,
        "restore_faces": False,
        "face_restoration_model": None,
        "sd_model_name": model.name.rsplit(".", 1)[0],
        "sd_model_hash": model.model_hash or None,
        "sd_vae_name": None if model.vae_name in ("Automatic", "None") else model.vae_name,
        "sd_vae_hash": (model.vae_sha256 or "")[:10] or None,
        "seed_resize_from_w": p.seed_resize_from_w if p.seed_resize_from_w > 0 else -1,
        "seed_resize_from_h": p.seed_resize_from_h if p.seed_resize_from_h > 0 else -1,
        "denoising_strength": p.denoising_strength if p.mode == "img2img" or p.enable_hr else None,
        "extra_generation_params": {},
        "index_of_first_image": 0,
        "infotexts": list(result.infotexts),
        "styles": list(p.styles),
        "job_timestamp": time.strftime("%Y%m%d%H%M%S", time.localtime(started)),
        "clip_skip": p.clip_skip,
        "is_using_inpainting_conditioning": model.arch.endswith("inpaint"),
        "interrupted": result.interrupted,
        "version": f"maple-{engine_version()}",
    }
