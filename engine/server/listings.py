"""What the listing endpoints return, the ``info`` JSON of a generation, and options checks."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequestError
from engine.jobs import GenParams, GenResult
from engine.models.demo import DEMO_LABEL
from engine.models.loaded import LoadedModel
from engine.server import api_models as m
from engine.server.service import engine_version

if TYPE_CHECKING:
    from engine.server.models import ModelManager



def sd_models(manager: ModelManager) -> list[m.SDModelItem]:
    items = []
    for entry in manager.checkpoint_entries():
        sha = entry.sha256
        label = f" ({DEMO_LABEL})" if entry.is_demo else ""
        items.append(m.SDModelItem(
            title=entry.title,
            model_name=entry.model_name + label,
            hash=sha[:10] if sha else None,
            sha256=sha,
            filename=str(entry.path),
            config=None,
        ))
    return items


def sd_vaes(manager: ModelManager) -> list[m.SDVaeItem]:
    return [m.SDVaeItem(model_name=e.name, filename=str(e.path)) for e in manager.vae_entries()]


def loras(manager: ModelManager) -> list[m.LoraItem]:
    out = []
    for e in manager.lora_entries():
        out.append(m.LoraItem(name=e.stem, alias=e.stem, path=str(e.path), metadata={}))
    return out


def samplers() -> list[m.SamplerItem]:
    from engine.generation.samplers import SAMPLERS

    return [m.SamplerItem(**s.as_api()) for s in SAMPLERS]


def schedulers() -> list[m.SchedulerItem]:
    from engine.generation.samplers import SCHEDULE_TYPES

    return [m.SchedulerItem(**s.as_api()) for s in SCHEDULE_TYPES]


def check_options(changes: dict[str, Any], manager: ModelManager) -> dict[str, Any]:
    """Validate ``POST /options`` in the HTTP thread; unknown keys are accepted and ignored (as A1111)."""
    out: dict[str, Any] = {}
    if "sd_model_checkpoint" in changes:
        name = changes["sd_model_checkpoint"]
        if not isinstance(name, str) or not name:
            raise BadRequestError("sd_model_checkpoint: must be a model name")
        manager.find_checkpoint(name, "sd_model_checkpoint")
        out["sd_model_checkpoint"] = name
    if "sd_vae" in changes:
        vae = changes["sd_vae"]
        if not isinstance(vae, str):
            raise BadRequestError("sd_vae: must be a VAE name, 'Automatic' or 'None'")
        manager.find_vae(vae, "sd_vae")
        out["sd_vae"] = vae
    if "CLIP_stop_at_last_layers" in changes:
        skip = changes["CLIP_stop_at_last_layers"]
        if isinstance(skip, bool) or not isinstance(skip, int | float) or not 1 <= int(skip) <= 12 or int(skip) != skip:
            raise BadRequestError("CLIP_stop_at_last_layers: must be a whole number from 1 to 12")
        out["CLIP_stop_at_last_layers"] = int(skip)
    return out


def info_dict(p: GenParams, result: GenResult, model: LoadedModel, started: float) -> dict[str, Any]:
    """A1111's ``info`` JSON for a finished generation."""
    n = len(result.images)
    prompt = str(p.extra.get("original_prompt", p.prompt))
    negative = str(p.extra.get("original_negative_prompt", p.negative_prompt))
    seeds = list(result.seeds)
    return {
        "prompt": prompt,
        "all_prompts": [prompt] * n,
        "negative_prompt": negative,
        "all_negative_prompts": [negative] * n,
        "seed": seeds[0] if seeds else p.seed,
        "all_seeds": seeds,
        "subseed": -1,
        "all_subseeds": [-1] * n,
        "subseed_strength": 0,
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
        "seed_resize_from_w": -1,
        "seed_resize_from_h": -1,
        "denoising_strength": p.denoising_strength if p.mode == "img2img" or p.enable_hr else None,
        "extra_generation_params": {},
        "index_of_first_image": 0,
        "infotexts": list(result.infotexts),
        "styles": [],
        "job_timestamp": time.strftime("%Y%m%d%H%M%S", time.localtime(started)),
        "clip_skip": p.clip_skip,
        "is_using_inpainting_conditioning": model.arch.endswith("inpaint"),
        "interrupted": result.interrupted,
        "version": f"maple-{engine_version()}",
    }
