"""Generation with 9-channel inpainting checkpoints, which always run the inpaint pipeline.

Like A1111: txt2img repaints a flat grey picture under a full mask at strength 1; img2img
without a mask repaints the whole init image at ``denoising_strength``; the hires pass upscales
the decoded first pass (Lanczos, or the job's pixel upscaler) and repaints it the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PIL import Image

from engine.generation.steps import StepHook, decode

if TYPE_CHECKING:
    from engine.generation.batch import Batch


def full_mask(width: int, height: int) -> Image.Image:
    return Image.new("L", (width, height), 255)


def repaint(batch: Batch, images: list[Image.Image], mask: Image.Image, strength: float,
            steps: int, hook: StepHook) -> Any:
    """One inpaint-pipeline pass; returns its latents."""
    p = batch.params
    pipe = batch.pipes.with_sampler(batch.pipes.inpaint(), p.sampler_name, p.scheduler)
    width, height = images[0].size
    start = (width, height) if strength >= 1 else None  # from pure noise: the stream's first noise
    return pipe(image=images, mask_image=mask, width=width, height=height, strength=strength,
                **batch.common(pipe, steps, hook, start=start)).images


def txt2img(batch: Batch, hook: StepHook) -> Any:
    p = batch.params
    grey = [Image.new("RGB", (p.width, p.height), (127, 127, 127))] * len(batch.seeds)
    return repaint(batch, grey, full_mask(p.width, p.height), 1.0, p.steps, hook)


def hires(batch: Batch, latents: Any, size: tuple[int, int], steps: int, hook: StepHook) -> list[Any]:
    from engine.generation.upscale import upscale_first_pass

    p = batch.params
    first = decode(batch.pipes.inpaint(), latents, batch.control)
    if not first:  # stopped while decoding
        return []
    first = upscale_first_pass(p, first, size, latents.device)  # the job's hires upscaler, as for other models
    strength = min(p.denoising_strength, 0.999)
    out = repaint(batch, first, full_mask(*size), strength, max(steps, int(steps / strength)), hook)
    if hook.stopped:  # interrupted or skipped in the hires pass: the first pass, resized
        return first
    return decode(batch.pipes.inpaint(), out, batch.control)
