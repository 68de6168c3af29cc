"""``generate``: one job (txt2img or img2img/inpaint, batch size x batch count) on a loaded model.

Seeds: -1 picks a random seed; image i of the job uses seed + i, with its own CPU generator, so
the same seed and settings give the same image on any device. The prompt is encoded once per
job. Interrupt stops the job and returns what exists (the current batch's partial images
included, as A1111 does); skip stops the current batch and goes on with the next.

Progress: ``control.on_step(batch_number, step, total, latents)`` after every step, where
``batch_number`` runs 0 .. n_iter - 1 and, with hires fix, the second pass continues the count
(``total`` = first-pass steps + second-pass steps).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from engine.generation import infotext
from engine.generation.pipes import PipeSet, pipes_for
from engine.generation.samplers import prepare_scheduler
from engine.generation.steps import StepHook, cpu_generators, decode
from engine.jobs import GenParams, GenResult, JobControl
from engine.models.loaded import LoadedModel
from engine.prompts.scheduled_embeds import Conditioner

logger = logging.getLogger(__name__)
MAX_SEED = 2**32 - 1


@dataclass
class Batch:
    """What one pass of the pipeline needs besides the pipeline itself."""

    pipes: PipeSet
    params: GenParams
    conditioner: Conditioner
    seeds: list[int]
    control: JobControl
    index: int  # batch number, 0 .. n_iter - 1

    def generators(self) -> list[Any]:
        return cpu_generators(self.seeds)

    def common(self, pipe: Any, steps: int, hook: StepHook) -> dict[str, Any]:
        """Keyword arguments every pipeline call of this batch shares."""
        prepare_scheduler(pipe.scheduler, self.seeds, steps)
        plan = self.conditioner.for_steps(hook.pass_steps)
        hook.schedule = plan if plan.changing else None
        return {**plan.pipe_kwargs(), "num_images_per_prompt": len(self.seeds),
                "num_inference_steps": steps, "guidance_scale": self.params.cfg_scale,
                "generator": self.generators(), "output_type": "latent", **hook.pipe_kwargs()}


def resolve_seed(seed: int) -> int:
    return random.randint(0, MAX_SEED) if seed is None or int(seed) < 0 else int(seed)


def generate(model: LoadedModel, params: GenParams, control: JobControl) -> GenResult:
    """Run the job; returns the images, their seeds and infotexts."""
    pipes = pipes_for(model)
    first_seed = resolve_seed(params.seed)
    conditioner = Conditioner(pipes.txt2img, params.prompt, params.negative_prompt, params.clip_skip)
    result = GenResult(images=[], seeds=[], infotexts=[])
    for n in range(max(1, params.n_iter)):
        if control.should_interrupt():
            result.interrupted = True
            break
        seeds = [first_seed + n * params.batch_size + i for i in range(params.batch_size)]
        images = run_batch(Batch(pipes, params, conditioner, seeds, control, n))
        _collect(result, model, params, seeds, images)
        if control.should_skip():
            control.clear_skip()
        if control.should_interrupt():
            result.interrupted = True
            break
    return result


def _collect(result: GenResult, model: LoadedModel, params: GenParams, seeds: list[int],
             images: list[Any]) -> None:
    for seed, image in zip(seeds, images, strict=False):
        result.images.append(image)
        result.seeds.append(seed)
        result.infotexts.append(infotext.build(params, model, seed))


def run_batch(batch: Batch) -> list[Any]:
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
        latents = pipe(width=p.width, height=p.height, **batch.common(pipe, p.steps, hook)).images
    else:
        raise ValueError(f"{type(pipes.txt2img).__name__} models only do img2img")
    if p.enable_hr and not hook.stopped:
        return run_hires(batch, pipe, latents)
    return decode(pipe, latents)
