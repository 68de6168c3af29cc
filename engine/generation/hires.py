"""Hires fix: upscale the first pass, then a second img2img pass at the larger size.

Latent upscalers interpolate the latents (A1111's "Latent" = bilinear); the pixel ones (None,
Lanczos, Nearest and every upscaler model: ``R-ESRGAN 4x+``, ``4x-UltraSharp``, ...) decode,
upscale to the second pass's size (``upscale``: a model runs tile by tile) and encode again. The second pass runs ``hr_second_pass_steps`` (or ``steps``)
actual steps at ``denoising_strength``, as A1111 does, with the same seeds' noise. An interrupt or
skip during the second pass ends it within a step and the batch keeps its first-pass picture;
one during a VAE decode stops the decode (no picture for that batch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.generation.steps import StepHook, decode, encode

if TYPE_CHECKING:
    from engine.generation.batch import Batch
    from engine.jobs import GenParams

LATENT_UPSCALERS: dict[str, tuple[str, bool]] = {
    "Latent": ("bilinear", False),
    "Latent (antialiased)": ("bilinear", True),
    "Latent (bicubic)": ("bicubic", False),
    "Latent (bicubic antialiased)": ("bicubic", True),
    "Latent (nearest)": ("nearest", False),
    "Latent (nearest-exact)": ("nearest-exact", False),
}
PIXEL_UPSCALERS = ("None", "Lanczos", "Nearest")  # and, by name, any upscaler model (``hr_upscaler_path``)
HIRES_UPSCALERS = (*LATENT_UPSCALERS, *PIXEL_UPSCALERS)


def hires_size(params: GenParams) -> tuple[int, int]:
    """(width, height) of the second pass, multiples of 8."""
    return (int(params.width * params.hr_scale) // 8 * 8, int(params.height * params.hr_scale) // 8 * 8)


def hires_steps(params: GenParams) -> int:
    """Steps the second pass runs (0 without hires fix)."""
    if params.mode != "txt2img" or not params.enable_hr or params.denoising_strength <= 0:
        return 0
    return params.hr_second_pass_steps or params.steps


def run_hires(batch: Batch, pipe: Any, latents: Any) -> list[Any]:
    p = batch.params
    steps = hires_steps(p)
    if batch.pipes.inpainting_unet and steps:
        from engine.generation import inpaint_model

        hook = StepHook(batch.control, batch.index, steps, offset=p.steps, total=p.steps + steps)
        return inpaint_model.hires(batch, latents, hires_size(p), steps, hook)
    upscaled = _upscale(batch, pipe, latents)
    if upscaled is None:  # stopped while decoding for a pixel upscaler
        return []
    if steps == 0:
        return decode(pipe, upscaled, batch.control)
    strength = min(p.denoising_strength, 0.999)
    second = batch.pipes.with_sampler(batch.pipes.img2img(), p.sampler_name, p.scheduler)
    hook = StepHook(batch.control, batch.index, steps, offset=p.steps, total=p.steps + steps)
    out = second(image=upscaled, strength=strength,
                 **batch.common(second, max(steps, int(steps / strength)), hook)).images
    if hook.stopped:  # interrupted or skipped in the hires pass: the first pass is this batch's picture
        return decode(pipe, latents, batch.control)
    return decode(second, out, batch.control)


def _upscale(batch: Batch, pipe: Any, latents: Any) -> Any:
    import torch.nn.functional as F

    p = batch.params
    width, height = hires_size(p)
    factor = pipe.vae_scale_factor
    mode = LATENT_UPSCALERS.get(p.hr_upscaler)
    if mode is None and (p.hr_upscaler in PIXEL_UPSCALERS or p.hr_upscaler_path):
        return _pixel_upscale(batch, pipe, latents, (width, height))
    if mode is None:
        raise ValueError(f"Unknown hires upscaler {p.hr_upscaler!r}; known: {', '.join(HIRES_UPSCALERS)}")
    size = (height // factor, width // factor)
    align = False if mode[0] in ("bilinear", "bicubic") else None
    return F.interpolate(latents.float(), size=size, mode=mode[0], antialias=mode[1],
                         align_corners=align).to(latents.dtype)


def _pixel_upscale(batch: Batch, pipe: Any, latents: Any, size: tuple[int, int]) -> Any:
    from engine.generation.img2img import to_pixels
    from engine.generation.upscale import upscale_first_pass

    decoded = decode(pipe, latents, batch.control)
    if not decoded:
        return None
    images = upscale_first_pass(batch.params, decoded, size, latents.device)
    return encode(pipe, to_pixels(images), batch.generators())
