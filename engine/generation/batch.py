"""``Batch``: what one pass of the pipeline needs besides the pipeline itself.

The orchestrator (``generate``) builds one per batch and hands it to a pass (txt2img, hires,
img2img, inpainting); the passes import this module, never the orchestrator.

Noise: every pass draws from a fresh ``rng.NoiseStream`` of the batch's seeds (the request's
``randn_source`` and ``eta_noise_seed_delta``, the variation settings as its first-draw hook), as
A1111 starts a new generator set for each pass. The scheduler takes all its noise from it; a
txt2img pass also starts from its first noise (``common(..., start=(width, height))``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.generation import rng, variation
from engine.generation.samplers import prepare_scheduler
from engine.generation.steps import StepHook, cpu_generators

if TYPE_CHECKING:
    from engine.generation.pipes import PipeSet
    from engine.jobs import GenParams, JobControl
    from engine.prompts.scheduled_embeds import Conditioner


@dataclass
class Batch:
    """One batch of a job: the pipelines, the request, its prompt conditioning and seeds."""

    pipes: PipeSet
    params: GenParams
    conditioner: Conditioner
    seeds: list[int]
    control: JobControl
    index: int  # batch number, 0 .. n_iter - 1
    controls: list[Any] = field(default_factory=list)  # ControlNet units ready to guide it (controlnet.py)

    def generators(self) -> list[Any]:
        return cpu_generators(self.seeds)

    def noise(self, pipe: Any) -> rng.NoiseStream:
        """A fresh noise stream for one pass of ``pipe`` (one generator per image)."""
        import torch

        p = self.params
        device = getattr(pipe, "_execution_device", None) or torch.device("cpu")

        def fresh(seed: int, shape: tuple[int, ...]) -> Any:
            return rng.randn(seed, shape, p.randn_source, device, torch.float32).cpu()

        return rng.NoiseStream(self.seeds, p.randn_source, device, torch.float32, p.eta_noise_seed_delta,
                               variation.first_hook(self, fresh))

    def common(self, pipe: Any, steps: int, hook: StepHook, noise: rng.NoiseStream | None = None,
               start: tuple[int, int] | None = None) -> dict[str, Any]:
        """Keyword arguments every pipeline call of this batch shares.

        ``noise``: the pass's stream (a fresh one if None); ``start``: (width, height) of a pass
        that starts from pure noise, which then gets the stream's first noise as its latents."""
        noise = noise or self.noise(pipe)
        prepare_scheduler(pipe.scheduler, self.seeds, steps, noise)
        plan = self.conditioner.for_steps(hook.pass_steps, hook.offset or None)  # offset: hires fix's second pass
        hook.schedule = plan if plan.changing else None
        kwargs = {**plan.pipe_kwargs(), "num_images_per_prompt": len(self.seeds),
                  "num_inference_steps": steps, "guidance_scale": self.params.cfg_scale,
                  "generator": self.generators(), "output_type": "latent", **hook.pipe_kwargs()}
        if start is not None:
            kwargs["latents"] = start_latents(pipe, noise, *start)
        if self.params.extra.get("eta"):  # DDIM's eta: its step noise comes from the stream too
            kwargs["eta"] = float(self.params.extra["eta"])
        return kwargs


def start_latents(pipe: Any, noise: rng.NoiseStream, width: int, height: int) -> Any:
    """The stream's first noise in the shape and precision of ``pipe``'s latents at that size."""
    factor = int(getattr(pipe, "vae_scale_factor", 8))
    channels = int(pipe.vae.config.latent_channels)
    shape = (len(noise.seeds), channels, height // factor, width // factor)
    return noise.first(shape).to(dtype=pipe.unet.dtype)
