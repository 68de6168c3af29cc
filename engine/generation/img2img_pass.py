"""img2img and inpainting passes.

The init images are resized (resize modes 0-3) and encoded with each image's own generator.
Without a mask the img2img pipeline denoises them at ``denoising_strength``. With a mask:
- 4-channel models run the img2img pipeline and, after every step, put the kept area back (the
  init latents noised to the next step's level), then paste the original pixels over the kept
  area (blurred mask edge) after decoding; masked content 0 fills the hole with blurred
  surrounding colours first, 2 starts it from noise, 3 from zeros;
- 9-channel (inpainting) models run the inpaint pipeline, which sees the mask itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

from engine.generation.img2img import (
    MaskSet,
    fill_masked,
    latent_mask,
    overlay,
    prepare_mask,
    resize_image,
    to_pixels,
)
from engine.generation.steps import StepHook, decode, encode

if TYPE_CHECKING:
    from engine.generation.batch import Batch
    from engine.generation.rng import NoiseStream
    from engine.jobs import GenParams


def run_img2img(batch: Batch) -> list[Any]:
    p = batch.params
    plan = _plan(batch)
    originals, masks = plan.sources, plan.masks
    hook = StepHook(batch.control, batch.index, max(1, _actual_steps(p)))
    if batch.pipes.inpainting_unet:
        return _finished(plan, _inpaint_model(batch, originals, masks, hook))
    pipe = batch.pipes.with_sampler(batch.pipes.img2img(), p.sampler_name, p.scheduler)
    starts = originals
    if masks is not None and p.inpainting_fill == 0:
        starts = [fill_masked(image, masks.blurred) for image in originals]
    generators = batch.generators()
    init = _init_latents(batch, pipe, starts, generators)
    noise = batch.noise(pipe)  # the pass's noise: what the scheduler adds is its first draw
    blend = None
    if masks is not None:
        mask = latent_mask(masks.blurred, (init.shape[3], init.shape[2]), init.device, init.dtype)
        init = _fill_latents(init, mask, p.inpainting_fill, noise)
        blend = hook.blend = _Blend(init, mask, noise.first(tuple(init.shape)).to(init.device, init.dtype))
    latents = init
    if _actual_steps(p) > 0:
        kwargs = {**batch.common(pipe, p.steps, hook, noise), "generator": generators}
        latents = pipe(image=init, strength=_strength(p.denoising_strength), **kwargs).images
    if blend is not None:
        latents = blend.final(latents)
    return _finished(plan, decode(pipe, latents, batch.control))


@dataclass
class _Plan:
    sources: list[Image.Image]
    masks: MaskSet | None
    finish: Callable[[list[Image.Image]], list[Image.Image]]


def _plan(batch: Batch) -> _Plan:
    """Start images at the job's size, the mask, and how results are finished (overlay, paste)."""
    p = batch.params
    if p.mask is not None and p.inpaint_full_res:
        from engine.generation import only_masked

        cropped = only_masked.plan(_chosen(batch), p.mask, p)
        if cropped is not None:
            return _Plan(cropped.sources, cropped.masks, cropped.finish)
    sources = _sources(batch)
    masks = prepare_mask(p.mask, p) if p.mask is not None else None
    if masks is None:
        return _Plan(sources, None, lambda images: images)
    return _Plan(sources, masks, lambda images: _finish(images, sources, masks))


def _actual_steps(p: GenParams) -> int:
    """Steps img2img runs: ``steps * denoising_strength`` (0 returns the init image)."""
    return min(int(p.steps * _strength(p.denoising_strength)), p.steps)


def _strength(strength: float) -> float:
    return min(max(strength, 0.0), 1.0)


def _chosen(batch: Batch) -> list[Image.Image]:
    """This batch's init images (image i of the job takes init image i, cycling)."""
    p = batch.params
    start = batch.index * p.batch_size
    return [p.init_images[(start + i) % len(p.init_images)].convert("RGB")
            for i in range(len(batch.seeds))]


def _sources(batch: Batch) -> list[Image.Image]:
    """The init images at the target size (mode 3 is resized in latent space, not here)."""
    p = batch.params
    mode = 0 if p.resize_mode == 3 else p.resize_mode
    return [resize_image(mode, image, p.width, p.height) for image in _chosen(batch)]


def _init_latents(batch: Batch, pipe: Any, images: list[Image.Image], generators: list[Any]) -> Any:
    if batch.params.resize_mode != 3 or (batch.params.mask is not None and batch.params.inpaint_full_res):
        return encode(pipe, to_pixels(images), generators)
    import torch
    import torch.nn.functional as F

    p = batch.params
    factor = pipe.vae_scale_factor
    size = (p.height // factor, p.width // factor)
    parts = []
    for image, generator in zip(_chosen(batch), generators, strict=True):
        rounded = image.resize((max(8, image.width // 8 * 8), max(8, image.height // 8 * 8)))
        latents = encode(pipe, to_pixels([rounded]), [generator])
        parts.append(F.interpolate(latents.float(), size=size, mode="bilinear").to(latents.dtype))
    return torch.cat(parts)


def _fill_latents(init: Any, mask: Any, fill: int, noise: NoiseStream) -> Any:
    """Masked content 2 (latent noise: the seeds' first noise, as A1111) and 3 (latent nothing)
    change the start inside the mask."""
    if fill == 3:
        return init * (1 - mask)
    if fill == 2:
        return init * (1 - mask) + noise.first(tuple(init.shape)).to(init.device, init.dtype) * mask
    return init


class _Blend:
    """Keeps the unmasked area on the init image's path through the noise levels."""

    def __init__(self, init: Any, mask: Any, noise: Any) -> None:
        self.init, self.mask, self.noise = init, mask, noise

    def __call__(self, i: int, pipe: Any, latents: Any) -> Any:
        scheduler = pipe.scheduler
        loop = scheduler.timesteps[len(scheduler.timesteps) - pipe._num_timesteps:]
        if i + 1 >= len(loop):
            return self.final(latents)
        kept = scheduler.add_noise(self.init, self.noise, loop[i + 1 : i + 2])
        return (kept * (1 - self.mask) + latents * self.mask).to(latents.dtype)

    def final(self, latents: Any) -> Any:
        return (self.init * (1 - self.mask) + latents * self.mask).to(latents.dtype)


def _inpaint_model(batch: Batch, sources: list[Image.Image], masks: MaskSet | None,
                   hook: StepHook) -> list[Any]:
    """9-channel models: the inpaint pipeline, with a full mask when there is no mask."""
    from engine.generation.inpaint_model import full_mask, repaint

    p = batch.params
    images = [fill_masked(im, masks.blurred) for im in sources] \
        if masks is not None and p.inpainting_fill == 0 else sources
    mask = masks.blurred if masks is not None else full_mask(p.width, p.height)
    latents = repaint(batch, images, mask, _strength(p.denoising_strength), p.steps, hook)
    return decode(batch.pipes.inpaint(), latents, batch.control)


def _finished(plan: _Plan, images: list[Any]) -> list[Any]:
    """The plan's finish (overlay, paste back); none when the decode was interrupted."""
    return plan.finish(images) if images else []


def _finish(images: list[Any], sources: list[Image.Image], masks: MaskSet | None) -> list[Any]:
    if masks is None:
        return images
    return [overlay(image, source, masks) for image, source in zip(images, sources, strict=True)]
