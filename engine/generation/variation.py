"""Variation seeds and size-independent seeds: A1111's ``subseed``, ``subseed_strength`` and
``seed_resize_from_w/h``.

Each image starts from its own seed's noise. With a variation strength, that noise is blended
with the noise of the image's variation seed by A1111's spherical interpolation: the tensors are
compared column by column (each channel and x position, along the height), the angle between
them found, and the two weighted by ``sin((1 - s) * angle)`` and ``sin(s * angle)``, so strength 0
keeps the seed's noise and 1 gives the variation seed's. Where the two are nearly parallel a
straight blend is used. The images of a job then share one seed and count up the variation seed
(seed 5, variation seeds 9, 10, 11 ...), as A1111 does.

With a "resize seed from" size, the noise is drawn at that size and placed in the middle of the
noise of the real size (cut where it is larger), so one seed gives a similar picture at another
size. The seed's and variation seed's noise at that size come from fresh generators; the image's
own generator still draws the full-size noise first, so what it draws later (the ancestral
samplers' noise) is the same as without these settings.

A batch's noise stream (``rng.NoiseStream``) hands each image's first draw to ``first_hook``,
which gives back the image's starting noise with these settings applied.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.jobs import GenParams


class Batch(Protocol):
    """What variation reads of a batch (``engine.generation.batch.Batch``, which uses this module)."""

    params: GenParams
    index: int
    seeds: list[int]
    pipes: Any

MAX_SEED = 2**32 - 1
PARALLEL = 0.9995  # A1111's limit on the mean cosine above which it blends in a straight line
Fresh = Callable[[int, tuple[int, ...]], Any]  # (seed, shape) -> a float32 tensor of that seed's noise


def cpu_noise(seed: int, shape: tuple[int, ...]) -> Any:
    """A seed's noise as A1111 draws it by default here: a fresh CPU generator, float32."""
    import torch

    return torch.randn(shape, generator=torch.Generator("cpu").manual_seed(int(seed)))


@dataclass(frozen=True)
class Variation:
    """The variation settings of one batch: its images' variation seeds, the strength, the size."""

    subseeds: tuple[int, ...]
    strength: float = 0.0
    resize_from: tuple[int, int] | None = None  # (width, height) in pixels
    scale: int = 8  # pixels per latent pixel (the VAE's scale factor)
    fresh: Fresh = cpu_noise

    @property
    def active(self) -> bool:
        return self.strength != 0 or self.resize_from is not None

    def noise(self, drawn: Any, seeds: Sequence[int]) -> Any:
        """The batch's starting noise from ``drawn`` (each image's generator's own draw, (n, C, h, w))."""
        import torch

        return torch.stack([self.one(drawn[i], seed, i) for i, seed in enumerate(seeds)])

    def one(self, drawn: Any, seed: int, index: int) -> Any:
        """Image ``index``'s starting noise from its generator's own draw ``drawn`` (C, h, w)."""
        return self._one(drawn.float().cpu(), seed, index).to(drawn.device, drawn.dtype)

    def _one(self, drawn: Any, seed: int, index: int) -> Any:
        shape = tuple(int(d) for d in drawn.shape)
        small = self._small(shape)
        noise = drawn if small == shape else self.fresh(seed, small)
        if self.strength != 0:
            subseed = self.subseeds[index] if index < len(self.subseeds) else 0
            noise = slerp(self.strength, noise, self.fresh(subseed, small))
        return noise if small == shape else place(noise, drawn.clone())

    def _small(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.resize_from is None:
            return shape
        width, height = self.resize_from
        return (shape[0], height // self.scale, width // self.scale)


def slerp(value: float, low: Any, high: Any) -> Any:
    """A1111's spherical interpolation of two (C, H, W) noise tensors, column by column."""
    import torch

    low_unit = low / torch.norm(low, dim=1, keepdim=True)
    high_unit = high / torch.norm(high, dim=1, keepdim=True)
    dot = (low_unit * high_unit).sum(1)
    if float(dot.mean()) > PARALLEL:
        return low * (1 - value) + high * value
    omega = torch.acos(dot)
    sine = torch.sin(omega)
    return ((torch.sin((1.0 - value) * omega) / sine).unsqueeze(1) * low
            + (torch.sin(value * omega) / sine).unsqueeze(1) * high)


def place(small: Any, full: Any) -> Any:
    """``small`` noise centred in ``full`` (both (C, H, W)); what does not fit is cut off evenly."""
    dx = (full.shape[2] - small.shape[2]) // 2
    dy = (full.shape[1] - small.shape[1]) // 2
    width = small.shape[2] if dx >= 0 else small.shape[2] + 2 * dx
    height = small.shape[1] if dy >= 0 else small.shape[1] + 2 * dy
    tx, ty, sx, sy = max(dx, 0), max(dy, 0), max(-dx, 0), max(-dy, 0)
    full[:, ty:ty + height, tx:tx + width] = small[:, sy:sy + height, sx:sx + width]
    return full


def resolved(params: GenParams) -> GenParams:
    """``params`` with a random variation seed chosen when it is -1 (as A1111 chooses it)."""
    if params.subseed >= 0:
        return params
    return replace(params, subseed=random.randint(0, MAX_SEED))


def job_seeds(params: GenParams, first_seed: int, batch_number: int) -> list[int]:
    """The seeds of one batch: counting up, or all the same when the job makes variations."""
    step = 0 if params.subseed_strength else 1
    start = batch_number * params.batch_size
    return [first_seed + (start + i) * step for i in range(params.batch_size)]


def subseed_of(params: GenParams, image_index: int) -> int:
    """The variation seed of image ``image_index`` of the job (they count up)."""
    return params.subseed + image_index


def for_batch(batch: Batch, scale: int = 8, fresh: Fresh = cpu_noise) -> Variation:
    """The batch's variation settings; ``fresh`` draws a seed's noise from the job's noise source."""
    p = batch.params
    start = batch.index * p.batch_size
    resize = (p.seed_resize_from_w, p.seed_resize_from_h)
    return Variation(tuple(subseed_of(p, start + i) for i in range(len(batch.seeds))), p.subseed_strength,
                     resize if min(resize) > 0 else None, scale, fresh)


def first_hook(batch: Batch, fresh: Fresh = cpu_noise) -> Callable[[int, Any], Any] | None:
    """(image index, that image's seeded draw) -> its starting noise; None without variation settings.

    For a noise source that hands each image's first draw to a hook (``rng.NoiseStream``).
    """
    variation = for_batch(batch, _scale(batch), fresh)
    if not variation.active:
        return None
    return lambda index, drawn: variation.one(drawn, batch.seeds[index], index)


def _scale(batch: Batch) -> int:
    return int(getattr(batch.pipes.txt2img, "vae_scale_factor", 8))
