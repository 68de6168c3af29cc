"""What runs around each denoising pass: the step callback and decoding latents to images.

``StepHook`` is given to diffusers as ``callback_on_step_end``: it reports progress (a pass may be
one of two, as in hires fix, so steps carry an offset), optionally blends the kept area of an
inpainting job back in, and stops the pipeline when the user interrupts or skips: the running
UNet step is the last. ``decode`` stops too when that happens during the VAE decode.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from engine.generation.decode_guard import DecodeStopped, stoppable
from engine.jobs import JobControl
from engine.prompts.scheduled_embeds import ScheduledEmbeds, swap_kwargs

logger = logging.getLogger(__name__)

Blend = Callable[[int, Any, Any], Any]  # (step index, pipeline, latents) -> latents


class StepHook:
    def __init__(self, control: JobControl, image_index: int, pass_steps: int,
                 offset: int = 0, total: int | None = None, blend: Blend | None = None) -> None:
        self.control = control
        self.image_index = image_index
        self.pass_steps = pass_steps
        self.offset = offset
        self.total = total if total is not None else pass_steps
        self.blend = blend
        self.stopped = False
        self.schedule: ScheduledEmbeds | None = None  # set when the prompt changes between steps
        self._current: tuple[Any, Any] | None = None

    def __call__(self, pipe: Any, i: int, t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        latents = kwargs["latents"]
        if self.blend is not None:
            latents = kwargs["latents"] = self.blend(i, pipe, latents)
        runs = max(int(getattr(pipe, "_num_timesteps", 0) or 0), 1)
        done = min(self.pass_steps, math.ceil((i + 1) * self.pass_steps / runs))
        if self.schedule is not None:
            self._switch_prompt(pipe, done, kwargs)
        self.control.on_step(self.image_index, self.offset + done, self.total, latents)
        if self.control.should_interrupt() or self.control.should_skip():
            pipe._interrupt = True
            self.stopped = True
        return kwargs

    def _switch_prompt(self, pipe: Any, next_index: int, kwargs: dict[str, Any]) -> None:
        assert self.schedule is not None
        wanted = self.schedule.at(next_index)
        current = self._current or self.schedule.at(0)
        if wanted[0] is not current[0] or wanted[1] is not current[1]:
            kwargs.update(swap_kwargs(self.schedule, next_index, pipe, kwargs["latents"].shape[0]))
        self._current = wanted

    def pipe_kwargs(self) -> dict[str, Any]:
        return {"callback_on_step_end": self, "callback_on_step_end_tensor_inputs": ["latents"]}


def decode(pipe: Any, latents: Any, control: JobControl | None = None) -> list[Any]:
    """Latents -> PIL images; an fp16 VAE that gives NaN is retried in fp32 (and stays fp32).

    With ``control``, an interrupt or skip that comes while the VAE decodes stops it: no images.
    """
    import torch

    vae = pipe.vae
    try:
        with torch.no_grad(), stoppable(vae, control):
            pixels = _decode(vae, latents)
            if torch.isnan(pixels).any() and vae.dtype != torch.float32:
                logger.warning("the VAE gave NaN at %s; decoding again in full precision", vae.dtype)
                vae.to(dtype=torch.float32)
                pixels = _decode(vae, latents)
    except DecodeStopped:
        logger.info("the VAE decode stopped: interrupted or skipped")
        return []
    return pipe.image_processor.postprocess(pixels.float(), output_type="pil")


def _decode(vae: Any, latents: Any) -> Any:
    """Decode on the latents' own device (with offloading, ``vae.device`` may still say cpu)."""
    from engine.models.vae import decode as vae_decode

    return vae_decode(vae, latents)


def encode(pipe: Any, pixels: Any, generators: list[Any]) -> Any:
    """Pixels in [-1, 1] (batch, 3, h, w) -> scaled latents, one generator per image.

    Like decoding, an fp16 VAE that gives NaN is retried in fp32 (and stays fp32).
    """
    import torch

    vae = pipe.vae
    states = [g.get_state() for g in generators]
    latents = _encode(vae, pixels.to(pipe._execution_device), generators)
    if torch.isnan(latents).any() and vae.dtype != torch.float32:
        logger.warning("the VAE gave NaN at %s while encoding; using full precision", vae.dtype)
        vae.to(dtype=torch.float32)
        for generator, state in zip(generators, states, strict=True):
            generator.set_state(state)
        latents = _encode(vae, pixels.to(pipe._execution_device), generators)
    return latents


def _encode(vae: Any, pixels: Any, generators: list[Any]) -> Any:
    import torch

    from engine.models import vae_tiling

    pixels = pixels.to(dtype=vae.dtype)
    with torch.no_grad():  # large pictures are encoded tile by tile
        parts = [vae_tiling.encode(vae, pixels[i : i + 1]).sample(generators[i])
                 for i in range(pixels.shape[0])]
    return torch.cat(parts) * vae.config.scaling_factor


def cpu_generators(seeds: list[int]) -> list[Any]:
    """A1111-style CPU noise: one ``torch.Generator("cpu")`` per image seeded with its seed."""
    import torch

    return [torch.Generator("cpu").manual_seed(int(seed)) for seed in seeds]
