"""Reference units (``reference_only`` and the AdaIN ones): the generation borrows a picture's look.

No ControlNet model takes part. At every UNet call a reference unit guides, its picture (fitted
to the pass's size and VAE-encoded once per size) is noised to the call's timestep and run
through the same UNet first, with the same prompt conditioning; each self-attention layer that
takes part keeps its input ("write"). The real call follows, and those layers attend to their
own tokens and the kept ones together ("read"), so the picture borrows the reference's look.
``reference_adain`` does the same with block outputs' statistics instead
(``engine.generation.reference_adain``); ``reference_adain+attn`` does both.

As the sd-webui-controlnet extension does:

- the unit's ``weight`` picks the layers: ranked from the widest down, layer ``i`` of ``n`` takes
  part when ``weight > i / n`` (1 and above: all of them);
- the style fidelity (``threshold_a``, 0.5 by default) decides how much of the reference the
  unconditional half of the CFG batch gets: its rows are ``f`` times their plain self-attention
  plus ``1 - f`` times the reference one (the conditional rows always take the reference);
  "My prompt is more important" and the hires pass use 0, "ControlNet is more important" 1;
- ``guidance_start`` / ``guidance_end`` and ``hr_option`` say which calls it guides.

The noise that brings the reference to each timestep comes from a CPU generator seeded with the
batch's first seed, so a seed gives the same picture again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.generation.reference_adain import OFF, READ, WRITE, AdainTap, PassState, taps_of

if TYPE_CHECKING:
    from engine.generation.batch import Batch

log = logging.getLogger(__name__)
ATTENTION_MODULES = ("reference_only", "reference_adain+attn")
ADAIN_MODULES = ("reference_adain", "reference_adain+attn")
MODULES = ("reference_only", "reference_adain", "reference_adain+attn")
FIDELITY_DEFAULT = 0.5


def is_reference(module: str) -> bool:
    """Whether ``module`` names a reference preprocessor (a unit that uses no ControlNet model)."""
    return module in MODULES


def run_reference(image: np.ndarray[Any, Any], _a: float, _b: float) -> np.ndarray[Any, Any]:
    """The preprocessor: the reference picture itself, in [0, 1]."""
    return image.astype(np.float32) / 255.0


def style_fidelity(unit: Any, hires: bool) -> float:
    """The unit's style fidelity for a call of the first pass or the hires pass."""
    if unit.control_mode == "ControlNet is more important":
        return 1.0
    if unit.control_mode == "My prompt is more important" or hires:
        return 0.0
    value = FIDELITY_DEFAULT if unit.threshold_a < 0 else float(unit.threshold_a)
    return min(1.0, max(0.0, value))


@dataclass
class ReferenceAttention:
    """A self-attention processor that keeps its input (write) or also attends to it (read)."""

    inner: Any
    state: PassState
    rank: float  # i / n in the widest-first order of the UNet's self-attention layers
    bank: list[Any] = field(default_factory=list)
    fidelities: list[float] = field(default_factory=list)

    def __call__(self, attn: Any, hidden_states: Any, encoder_hidden_states: Any = None,
                 attention_mask: Any = None, temb: Any = None, **kwargs: Any) -> Any:
        if temb is not None:
            kwargs["temb"] = temb
        state = self.state
        if encoder_hidden_states is not None or state.mode == OFF:
            return self.inner(attn, hidden_states, encoder_hidden_states, attention_mask, **kwargs)
        if state.mode == WRITE:
            if state.weight > self.rank:
                self.bank.append(hidden_states.detach().clone())
                self.fidelities.append(state.fidelity)
            return self.inner(attn, hidden_states, None, attention_mask, **kwargs)
        if not self.bank:
            return self.inner(attn, hidden_states, None, attention_mask, **kwargs)
        return self._read(attn, hidden_states, attention_mask, kwargs)

    def _read(self, attn: Any, hidden_states: Any, attention_mask: Any, kwargs: dict[str, Any]) -> Any:
        import torch

        context = torch.cat([hidden_states, *(b.to(hidden_states.dtype) for b in self.bank)], dim=1)
        out = self.inner(attn, hidden_states, context, attention_mask, **kwargs)
        fidelity = sum(self.fidelities) / len(self.fidelities)
        rows = self.state.uncond
        if rows and fidelity > 1e-5:
            plain = self.inner(attn, hidden_states[:rows], None, attention_mask, **kwargs)
            out = out.clone()
            out[:rows] = fidelity * plain + (1.0 - fidelity) * out[:rows]
        self.clear()
        return out

    def clear(self) -> None:
        self.bank.clear()
        self.fidelities.clear()


def self_attention_layers(unet: Any) -> list[Any]:
    """The UNet's transformer blocks' self-attention modules, widest first (a stable order)."""
    from diffusers.models.attention import BasicTransformerBlock

    blocks = [m for m in unet.modules() if isinstance(m, BasicTransformerBlock) and not m.only_cross_attention]
    layers = [b.attn1 for b in blocks]
    return sorted(layers, key=lambda a: -int(a.to_q.in_features))


def encode_mean(pipe: Any, pixels: Any) -> Any:
    """Pixels in [-1, 1] (1, 3, h, w) -> the scaled mean of the VAE's latent distribution.

    The mean, not a draw: the picture's own content, the same every time (the draw's spread is
    tiny for trained VAEs). An fp16 VAE that gives NaN is asked again in full precision."""
    import torch

    from engine.models import vae_tiling

    vae = pipe.vae
    device = pipe._execution_device
    with torch.no_grad():
        latent = vae_tiling.encode(vae, pixels.to(device, vae.dtype)).mode()
        if torch.isnan(latent).any() and vae.dtype != torch.float32:
            log.warning("the VAE gave NaN at %s while encoding the reference; using full precision", vae.dtype)
            vae.to(dtype=torch.float32)
            latent = vae_tiling.encode(vae, pixels.to(device, torch.float32)).mode()
    return latent * vae.config.scaling_factor


class ReferenceHook:
    """The reference units of one batch: their layers' processors and the write passes."""

    def __init__(self, batch: Batch, ready: list[Any], injector: Any) -> None:  # controlnet.ReadyUnit, Injector (it imports this module)
        import torch

        from engine.generation.schedules import model_schedule

        self.batch, self.ready, self.injector = batch, ready, injector
        self.pipe = batch.pipes.txt2img
        self.state = PassState()
        self.processors: list[ReferenceAttention] = []
        self.taps: list[AdainTap] = []
        self.latents: dict[tuple[int, int, int], Any] = {}  # (unit, latent h, w) -> (1 or pictures, C, h, w)
        self.alphas = torch.from_numpy(model_schedule(batch.pipes.base_config).alphas_cumprod.copy())
        self.generator = torch.Generator("cpu").manual_seed(int(batch.seeds[0]) if batch.seeds else 0)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The processors in place while the batch runs (the UNet's own ones back afterwards)."""
        if not self.ready:
            yield
            return
        modules = {r.unit.module for r in self.ready}
        layers = self_attention_layers(self.pipe.unet) if modules & set(ATTENTION_MODULES) else []
        originals = [layer.processor for layer in layers]
        for i, layer in enumerate(layers):
            wrapper = ReferenceAttention(layer.processor, self.state, i / len(layers))
            self.processors.append(wrapper)
            layer.set_processor(wrapper)
        handles = []
        if modules & set(ADAIN_MODULES):
            for module, rank in taps_of(self.pipe.unet, self.batch.pipes.sdxl):
                tap = AdainTap(self.state, rank)
                self.taps.append(tap)
                handles.append(module.register_forward_hook(tap))
        try:
            self._encode_known_sizes()
            yield
        finally:
            for layer, original in zip(layers, originals, strict=True):
                layer.set_processor(original)
            for handle in handles:
                handle.remove()
            self.processors.clear()
            self.taps.clear()
            self.latents.clear()

    def _encode_known_sizes(self) -> None:
        """Encode at the passes' sizes before the pipeline runs (with model offload, the VAE
        must not be called from inside the UNet's forward)."""
        from engine.generation.hires import hires_size

        p = self.batch.params
        sizes = [(p.width, p.height)]
        if p.mode == "txt2img" and p.enable_hr:
            sizes.append(hires_size(p))
        factor = int(getattr(self.pipe, "vae_scale_factor", 8))
        for index in range(len(self.ready)):
            for width, height in sizes:
                self._latent(index, height // factor, width // factor)

    def _latent(self, index: int, h: int, w: int) -> Any:
        import torch

        key = (index, h, w)
        if key not in self.latents:
            factor = int(getattr(self.pipe, "vae_scale_factor", 8))
            unit, size, cpu = self.ready[index], (h * factor, w * factor), torch.device("cpu")
            if unit.later_maps:  # a list of pictures: picture i of the batch takes reference i
                pixels = unit.hints(*size, cpu, torch.float32, max(1, self.injector.images))
            else:
                pixels = unit.hint(*size, cpu, torch.float32)
            pixels = pixels * 2.0 - 1.0
            self.latents[key] = torch.cat([encode_mean(self.pipe, pixels[i: i + 1]) for i in range(len(pixels))])
        return self.latents[key]

    @contextmanager
    def reading(self, original: Any, sample: Any, timestep: Any, hidden: Any, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Iterator[None]:
        """Runs the write pass of each unit that guides this call; the body's call then reads."""
        pct, hires = self.injector.progress()
        active = [i for i, r in enumerate(self.ready) if r.unit.active_at(pct) and r.unit.applies_to_pass(hires)]
        if not active:
            yield
            return
        images = self.injector.images
        self.state.uncond = images if sample.shape[0] == 2 * images else 0
        try:
            for index in active:
                unit = self.ready[index].unit
                self.state.mode = WRITE
                self.state.weight = float(unit.weight) if unit.module in ATTENTION_MODULES else 0.0
                self.state.adain_weight = float(unit.weight) if unit.module in ADAIN_MODULES else 0.0
                self.state.fidelity = style_fidelity(unit, hires)
                original(self._noised(index, sample, timestep), timestep, hidden, *args, **kwargs)
                self.ready[index].calls += 1
            self.state.mode = READ
            yield
        finally:
            self.state.mode = OFF
            for processor in self.processors:
                processor.clear()
            for tap in self.taps:
                tap.clear()

    def _noised(self, index: int, sample: Any, timestep: Any) -> Any:
        """The unit's reference latents brought to ``timestep``, shaped like ``sample``."""
        import torch

        latent = self._latent(index, int(sample.shape[-2]), int(sample.shape[-1])).to(sample.device, torch.float32)
        rows = sample.shape[0]
        if len(latent) > 1 and rows % len(latent) == 0:  # one reference per picture: both CFG halves take them
            latent = latent.repeat(rows // len(latent), 1, 1, 1)
        else:
            latent = latent[:1].expand(rows, -1, -1, -1)
        images = max(1, self.injector.images)
        draws = images if rows % images == 0 else rows
        noise = torch.randn((draws, *latent.shape[1:]), generator=self.generator, dtype=torch.float32)
        noise = noise.repeat(rows // draws, 1, 1, 1).to(sample.device)
        t = torch.as_tensor(timestep, dtype=torch.float32).flatten().round().long().clamp(0, len(self.alphas) - 1)
        a = self.alphas[t.cpu()].to(sample.device)
        a = a.view(-1, 1, 1, 1) if a.numel() == rows else a[:1].view(1, 1, 1, 1)
        noised = a.sqrt() * latent + (1.0 - a).sqrt() * noise
        if sample.shape[1] > latent.shape[1]:  # an inpainting UNet: nothing masked, the reference as the picture
            mask = torch.zeros_like(noised[:, :1])
            noised = torch.cat([noised, mask, latent], dim=1)
        return noised.to(sample.dtype)
