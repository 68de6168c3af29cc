"""ControlNet in every pass: the units' residuals added to the UNet while a batch runs.

``prepare`` runs once per job: it builds each unit's network (``engine.models.controlnet``),
decodes its picture (the job's init image and mask when the unit has none) and runs its
preprocessor. ``applied`` then wraps one batch: while it runs, the UNet's forward adds the
residuals of every unit that guides the current step, so txt2img, img2img, inpainting and the
hires pass all take them without pipelines of their own.

Per unit, as the sd-webui-controlnet extension does: ``weight`` scales the residuals (a unit of
weight 0 is left out, so the picture is exactly the one without it); it guides the steps whose
progress through their pass lies in [guidance_start, guidance_end]; "My prompt is more
important" uses soft weights (0.825 ** (n - i) from the deepest block outwards) and "ControlNet
is more important" uses them on the conditional half of the CFG batch only; ``resize_mode`` fits
the detected map to each pass's size (just resize, crop and resize, resize and fill with the
border's median colour); ``pixel_perfect`` picks the processor resolution from the sizes;
``hr_option`` says which passes of hires fix it guides. A unit with a list of pictures guides
picture i of each batch with the map of picture i (the last map guides the rest).
Reference units (``reference_only`` ...) have no network: the same forward runs their write pass
first and their layers read during the real call (``engine.generation.reference``).
"""

from __future__ import annotations

import io
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import BadRequestError
from engine.generation import preprocessors as pre
from engine.generation import reference
from engine.generation.control_units import ControlUnit, units_of
from engine.models.controlnet import ControlNetCache, unet_family

if TYPE_CHECKING:
    from PIL.Image import Image

    from engine.generation.batch import Batch
    from engine.generation.pipes import PipeSet
    from engine.jobs import GenParams, JobControl

log = logging.getLogger(__name__)
SOFT_BASE = 0.825
_CACHES: weakref.WeakKeyDictionary[Any, ControlNetCache] = weakref.WeakKeyDictionary()


@dataclass
class ReadyUnit:
    """A unit with its network and detected map, fitted to each pass's size on first use."""

    unit: ControlUnit
    net: Any  # None for a reference unit (``engine.generation.reference``): it uses no network
    detected: np.ndarray[Any, Any]
    picture: Image
    fitted: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    later_maps: list[np.ndarray[Any, Any]] = field(default_factory=list)  # pictures 2, 3 ... of the unit's list
    later_pictures: list[Image] = field(default_factory=list)
    calls: int = 0  # how many UNet evaluations it guided (tests and logs read it)
    dtype: Any = None  # the network's precision (diffusers' ``.dtype`` walks every module: read it once)

    def __post_init__(self) -> None:
        if self.net is not None:
            self.dtype = next(self.net.parameters()).dtype

    def hint(self, height: int, width: int, device: Any, dtype: Any) -> Any:
        """The map at (height, width) as a (1, 3, h, w) tensor on ``device`` (made once per size)."""
        import torch

        key = (height, width, str(device), str(dtype))
        if key not in self.fitted:
            fitted = fit(self.detected, width, height, self.unit.resize_mode)
            tensor = torch.from_numpy(np.ascontiguousarray(fitted)).permute(2, 0, 1)[None]
            self.fitted[key] = tensor.to(device=device, dtype=dtype)
        return self.fitted[key]

    @property
    def pictures(self) -> list[Image]:
        """The detected maps as pictures, one per picture of the unit."""
        return [self.picture, *self.later_pictures]

    def hints(self, height: int, width: int, device: Any, dtype: Any, images: int) -> Any:
        """(images, 3, h, w): picture i of the batch gets map i, the last map the rest."""
        import torch

        first = self.hint(height, width, device, dtype)
        if not self.later_maps:
            return first.expand(images, -1, -1, -1)
        key = (height, width, str(device), str(dtype), images)
        if key not in self.fitted:
            maps = [self.detected, *self.later_maps]
            chosen = [maps[min(i, len(maps) - 1)] for i in range(images)]
            stacked = np.stack([fit(m, width, height, self.unit.resize_mode) for m in chosen])
            self.fitted[key] = torch.from_numpy(stacked).permute(0, 3, 1, 2).to(device=device, dtype=dtype)
        return self.fitted[key]


def decode_picture(data: bytes, mode: str) -> np.ndarray[Any, Any]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        return np.asarray(opened.convert(mode))


def pixel_perfect_res(raw: tuple[int, int], target: tuple[int, int], resize_mode: str) -> int:
    """The processor resolution that maps the picture onto the output pixel for pixel."""
    (raw_w, raw_h), (w, h) = raw, target
    k0, k1 = h / raw_h, w / raw_w
    k = min(k0, k1) if resize_mode == "Resize and Fill" else max(k0, k1)
    return int(round(k * min(raw_h, raw_w)))


def _source(unit: ControlUnit, params: GenParams) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
    field_name = f"alwayson_scripts.controlnet.args[{unit.index}].image"
    if unit.image is not None:
        image = decode_picture(unit.image, "RGB")
    elif params.init_images:
        image = np.asarray(params.init_images[0].convert("RGB"))
    else:
        raise BadRequestError.about(field_name, "this unit needs a picture (txt2img has no init image to use)")
    mask: np.ndarray[Any, Any] | None = None
    if unit.mask is not None:
        mask = decode_picture(unit.mask, "L")
    elif params.mask is not None:
        mask = np.asarray(params.mask.convert("L"))
    return image, mask


def detect_unit(unit: ControlUnit, params: GenParams) -> np.ndarray[Any, Any]:
    image, mask = _source(unit, params)
    return _detect(unit, params, image, mask)


def detect_later(unit: ControlUnit, params: GenParams) -> list[np.ndarray[Any, Any]]:
    """The maps of the unit's second and later pictures (each with its mask, else the job's)."""
    job_mask = np.asarray(params.mask.convert("L")) if params.mask is not None else None
    return [_detect(unit, params, decode_picture(image, "RGB"), decode_picture(mask, "L") if mask is not None else job_mask)
            for image, mask in unit.later_pictures]


def _detect(unit: ControlUnit, params: GenParams, image: np.ndarray[Any, Any],
            mask: np.ndarray[Any, Any] | None) -> np.ndarray[Any, Any]:
    res = unit.processor_res
    if unit.pixel_perfect:
        res = pixel_perfect_res((image.shape[1], image.shape[0]), (params.width, params.height), unit.resize_mode)
    module = pre.find_module(unit.module, f"alwayson_scripts.controlnet.args[{unit.index}].module")
    return pre.detect(module, image, res, unit.threshold_a, unit.threshold_b, mask, unit.weight_folders)


def prepare(pipes: PipeSet, params: GenParams) -> list[ReadyUnit]:
    """The job's units that take part (enabled, weight not 0), built and detected."""
    units = [u for u in units_of(params) if u.weight != 0]
    if not units:
        return []
    cache = _CACHES.setdefault(pipes.txt2img, ControlNetCache())
    ready = []
    for unit in units:
        net = None if reference.is_reference(unit.module) else cache.get(
            Path(unit.model_path), pipes.txt2img.unet, unet_family(pipes.txt2img.unet))
        detected, later = detect_unit(unit, params), detect_later(unit, params)
        ready.append(ReadyUnit(unit, net, detected, pre.to_picture(detected), later_maps=later,
                               later_pictures=[pre.to_picture(d) for d in later]))
    return ready


def fit(detected: np.ndarray[Any, Any], width: int, height: int, resize_mode: str) -> np.ndarray[Any, Any]:
    """The map fitted to (width, height) per the unit's resize mode."""
    h, w = detected.shape[:2]
    if resize_mode == "Just Resize":
        return _resized(detected, width, height)
    k = max(width / w, height / h) if resize_mode == "Crop and Resize" else min(width / w, height / h)
    new_w, new_h = max(1, round(w * k)), max(1, round(h * k))
    scaled = _resized(detected, new_w, new_h)
    if resize_mode == "Crop and Resize":
        top, left = (new_h - height) // 2, (new_w - width) // 2
        return scaled[top: top + height, left: left + width]
    borders = np.concatenate([detected[0], detected[-1], detected[:, 0], detected[:, -1]], axis=0)
    canvas = np.tile(np.median(borders, axis=0).astype(np.float32)[None, None], (height, width, 1))
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top: top + new_h, left: left + new_w] = scaled
    return canvas


def _resized(detected: np.ndarray[Any, Any], width: int, height: int) -> np.ndarray[Any, Any]:
    import torch
    import torch.nn.functional as F  # noqa: N812

    if detected.shape[:2] == (height, width):
        return detected.astype(np.float32)
    t = torch.from_numpy(np.ascontiguousarray(detected, dtype=np.float32)).permute(2, 0, 1)[None]
    marked = bool((t < 0).any())  # inpainting marks: keep them crisp
    if marked:
        out = F.interpolate(t, size=(height, width), mode="nearest")
    else:
        out = F.interpolate(t, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
    return np.asarray(out[0].permute(1, 2, 0).numpy())


class StepCount:
    """The batch's ``JobControl`` with a count of the steps done (what guidance ranges read)."""

    def __init__(self, inner: JobControl) -> None:
        self.inner = inner
        self.done = 0

    def on_step(self, image_index: int, step: int, total_steps: int, latents: Any) -> None:
        self.done = step
        self.inner.on_step(image_index, step, total_steps, latents)

    def should_interrupt(self) -> bool:
        return self.inner.should_interrupt()

    def should_skip(self) -> bool:
        return self.inner.should_skip()

    def clear_skip(self) -> None:
        self.inner.clear_skip()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Injector:
    """Adds the active units' residuals to one UNet call."""

    ready: list[ReadyUnit]
    params: GenParams
    counter: StepCount
    images: int  # pictures in the batch (the CFG batch is twice that)

    def progress(self) -> tuple[float, bool]:
        """(progress through the current pass, whether it is the hires pass)."""
        from engine.generation.hires import hires_steps

        p, done = self.params, self.counter.done
        if p.mode == "img2img":
            first = max(1, min(int(p.steps * p.denoising_strength), p.steps))
            return done / first, False
        second = hires_steps(p)
        if second and done >= p.steps:
            return (done - p.steps) / second, True
        return done / max(1, p.steps), False

    def residuals(self, sample: Any, timestep: Any, hidden: Any, added: Any) -> tuple[Any, Any] | None:
        pct, hires = self.progress()
        down_sum: list[Any] | None = None
        mid_sum: Any = None
        for r in self.ready:
            if r.net is None or not (r.unit.active_at(pct) and r.unit.applies_to_pass(hires)):
                continue
            down, mid = self._one(r, sample, timestep, hidden, added)
            r.calls += 1
            down_sum = down if down_sum is None else [a + b for a, b in zip(down_sum, down, strict=True)]
            mid_sum = mid if mid_sum is None else mid_sum + mid
        return None if down_sum is None else (down_sum, mid_sum)

    def _one(self, r: ReadyUnit, sample: Any, timestep: Any, hidden: Any, added: Any) -> tuple[list[Any], Any]:
        net = r.net
        x = sample[:, : int(net.config.in_channels)]
        height, width = (int(s) * 8 for s in sample.shape[-2:])
        dtype = r.dtype
        hint = self._hint(r, height, width, sample, dtype)
        kwargs = {"added_cond_kwargs": added} if added else {}
        balanced = r.unit.control_mode == "Balanced"  # one weight for all blocks: the network applies it
        down, mid = net(x.to(dtype), timestep, encoder_hidden_states=hidden.to(dtype), controlnet_cond=hint,
                        conditioning_scale=r.unit.weight if balanced else 1.0, return_dict=False, **kwargs)
        if not balanced:
            scales = self._scales(r.unit, len(down) + 1)
            down = [d * s for d, s in zip(down, scales, strict=False)]
            mid = mid * scales[-1]
        if r.unit.control_mode == "ControlNet is more important" and sample.shape[0] == 2 * self.images:
            down = [_cond_half(d, self.images) for d in down]
            mid = _cond_half(mid, self.images)
        return [d.to(sample.dtype) for d in down], mid.to(sample.dtype)

    def _hint(self, r: ReadyUnit, height: int, width: int, sample: Any, dtype: Any) -> Any:
        """The unit's maps for every row of the UNet's batch (the CFG halves each take the batch's maps)."""
        rows = int(sample.shape[0])
        if not r.later_maps or not self.images or rows % self.images:
            return r.hint(height, width, sample.device, dtype).expand(rows, -1, -1, -1)
        per_picture = r.hints(height, width, sample.device, dtype, self.images)
        return per_picture if rows == self.images else per_picture.repeat(rows // self.images, 1, 1, 1)

    @staticmethod
    def _scales(unit: ControlUnit, n: int) -> list[float]:
        if unit.control_mode == "Balanced":
            return [unit.weight] * n
        return [unit.weight * SOFT_BASE ** float(n - 1 - i) for i in range(n)]


def _cond_half(t: Any, images: int) -> Any:
    """Zero the unconditional half of a CFG batch (diffusers puts it first)."""
    out = t.clone()
    out[:images] = 0
    return out


@contextmanager
def applied(batch: Batch, ready: list[ReadyUnit]) -> Iterator[None]:
    """While the batch runs, its UNet takes the units' residuals (nothing changes without units)."""
    if not ready:
        yield
        return
    unet = batch.pipes.txt2img.unet
    counter = StepCount(batch.control)
    injector = Injector(ready, batch.params, counter, len(batch.seeds))
    references = reference.ReferenceHook(batch, [r for r in ready if r.net is None], injector)
    had_own = "forward" in vars(unet)
    original = unet.forward
    _place(ready, batch.pipes.txt2img)

    def forward(sample: Any, timestep: Any, encoder_hidden_states: Any = None, *args: Any, **kwargs: Any) -> Any:
        with references.reading(original, sample, timestep, encoder_hidden_states, args, kwargs):
            found = injector.residuals(sample, timestep, encoder_hidden_states, kwargs.get("added_cond_kwargs"))
            if found is not None:
                kwargs["down_block_additional_residuals"], kwargs["mid_block_additional_residual"] = found
            return original(sample, timestep, encoder_hidden_states, *args, **kwargs)

    unet.forward = forward
    batch.control = counter
    try:
        with references.installed():
            yield
    finally:
        batch.control = counter.inner
        if had_own:
            unet.forward = original
        else:
            del unet.forward
        _release(ready)


def _place(ready: list[ReadyUnit], pipe: Any) -> None:
    """Each network on the device the pipeline computes on (with offloading: its execution device)."""
    device = _execution_device(pipe)
    for r in ready:
        if r.net is not None and next(r.net.parameters()).device != device:
            r.net.to(device)


def _release(ready: list[ReadyUnit]) -> None:
    """Low VRAM units go back to the CPU between jobs."""
    for r in ready:
        if r.net is not None and r.unit.low_vram:
            r.net.to("cpu")


def _execution_device(pipe: Any) -> Any:
    """diffusers' own answer (it follows offload hooks); the UNet's parameters' device otherwise."""
    import torch

    device = getattr(pipe, "_execution_device", None)
    if isinstance(device, torch.device) and device.type != "meta":
        return device
    return next(pipe.unet.parameters()).device
