"""``generate``: one job (txt2img or img2img/inpaint, batch size x batch count) on a loaded model.

Seeds: -1 picks a random seed; image i of the job uses seed + i, with its own CPU generator, so
the same seed and settings give the same image on any device; with a variation strength every
image keeps the seed and the variation seed counts up instead (``variation``). The prompt is
encoded once per job, with the model's textual-inversion embeddings. Interrupt stops the job and
returns what exists (the current batch's partial images included, as A1111 does); skip stops the
current batch and goes on with the next.

Progress: ``control.on_step(batch_number, step, total, latents)`` after every step, where
``batch_number`` runs 0 .. n_iter - 1 and, with hires fix, the second pass continues the count
(``total`` = first-pass steps + second-pass steps).
"""

from __future__ import annotations

import logging
import random
from typing import Any

from engine.generation import controlnet, infotext, variation
from engine.generation.batch import Batch
from engine.generation.pipes import pipes_for
from engine.generation.seamless import circular_padding
from engine.generation.steps import StepHook, decode
from engine.jobs import GenParams, GenResult, JobControl
from engine.models.loaded import LoadedModel
from engine.prompts.embeddings import ti_hashes
from engine.prompts.scheduled_embeds import Conditioner

logger = logging.getLogger(__name__)
MAX_SEED = 2**32 - 1


def resolve_seed(seed: int) -> int:
    return random.randint(0, MAX_SEED) if seed is None or int(seed) < 0 else int(seed)


def generate(model: LoadedModel, params: GenParams, control: JobControl) -> GenResult:
    """Run the job; returns the images, their seeds and infotexts."""
    pipes = pipes_for(model)
    first_seed = resolve_seed(params.seed)
    params = variation.resolved(params)
    conditioner = Conditioner(pipes.txt2img, params.prompt, params.negative_prompt, params.clip_skip,
                              model.embeddings)
    result = GenResult(images=[], seeds=[], infotexts=[])
    controls = controlnet.prepare(pipes, params)
    kept = [(c.unit.module, picture) for c in controls if c.unit.save_detected_map for picture in c.pictures]
    result.detected_maps = [picture for _module, picture in kept]
    result.detected_labels = [module for module, _picture in kept]
    for n in range(max(1, params.n_iter)):
        if control.should_interrupt():
            result.interrupted = True
            break
        seeds = variation.job_seeds(params, first_seed, n)
        images = run_batch(Batch(pipes, params, conditioner, seeds, control, n, controls))
        _collect(result, model, params, seeds, images, ti_hashes(conditioner.used))
        if control.should_skip():
            control.clear_skip()
        if control.should_interrupt():
            result.interrupted = True
            break
    return result


def _collect(result: GenResult, model: LoadedModel, params: GenParams, seeds: list[int],
             images: list[Any], embeddings: str | None) -> None:
    for seed, image in zip(seeds, images, strict=False):
        subseed = variation.subseed_of(params, len(result.images))
        result.images.append(image)
        result.seeds.append(seed)
        result.subseeds.append(subseed)
        result.infotexts.append(infotext.build(params, model, seed, subseed=subseed, ti_hashes=embeddings))


def run_batch(batch: Batch) -> list[Any]:
    """One batch, with the request's tiling (and ControlNet units) in force only while it runs."""
    with circular_padding(batch.pipes.txt2img, batch.params.tiling), controlnet.applied(batch, batch.controls):
        if batch.params.mode == "img2img":
            from engine.generation.img2img_pass import run_img2img

            return run_img2img(batch)
        return run_txt2img(batch)


def run_txt2img(batch: Batch) -> list[Any]:
    from engine.generation.hires import hires_steps, run_hires

    p, pipes = batch.params, batch.pipes
    hook = StepHook(batch.control, batch.index, p.steps, total=p.steps + hires_steps(p))
    if pipes.inpainting_unet:
        from engine.generation import inpaint_model

        pipe, latents = pipes.inpaint(), inpaint_model.txt2img(batch, hook)
    elif pipes.txt2img_capable:
        pipe = pipes.with_sampler(pipes.txt2img, p.sampler_name, p.scheduler)
        latents = pipe(width=p.width, height=p.height,
                       **batch.common(pipe, p.steps, hook, start=(p.width, p.height))).images
    else:
        raise ValueError(f"{type(pipes.txt2img).__name__} models only do img2img")
    if p.enable_hr and not hook.stopped:
        return run_hires(batch, pipe, latents)
    return decode(pipe, latents, batch.control)
