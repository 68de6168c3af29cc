"""AdaIN for reference units (``reference_adain``, ``reference_adain+attn``): feature statistics.

Some of the UNet's block outputs are "taps". In a reference unit's write pass (see
``engine.generation.reference``) each tap that takes part keeps the per-channel mean and variance
of its output; in the real call it renormalises its output to them (adaptive instance
normalisation), so the picture takes the reference's colours and contrast block by block.

The taps are the ones the sd-webui-controlnet extension uses, named by the original UNet's
block numbering: the middle block, input blocks 4, 5, 7, 8, 10, 11 (SDXL: 4, 5, 7, 8) and output
blocks 0-7 (SDXL: 0-5). An input block is a resnet (and its attention, when the level has one)
or a downsampler; an output block is a resnet with its attention, the level's last one with its
upsampler. Each tap has a rank from 0 to 2 (the middle block 0, input blocks from 2 down towards
the deepest, output blocks from 0 up); a unit of weight ``w`` uses the taps ranked below ``w``.
The style fidelity mixes the unconditional rows as it does for the attention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
EPS = 1e-6
SD1_INPUTS, SD1_OUTPUTS = (4, 5, 7, 8, 10, 11), tuple(range(8))
SDXL_INPUTS, SDXL_OUTPUTS = (4, 5, 7, 8), tuple(range(6))


def _units(block: Any) -> list[Any]:
    """One module per resnet of a block: its attention where the block has them, else the resnet."""
    attentions = getattr(block, "attentions", None)
    return [attentions[j] if attentions else resnet for j, resnet in enumerate(block.resnets)]


def input_blocks(unet: Any) -> list[Any]:
    """The modules whose outputs are the original numbering's input blocks 0, 1, 2 ..."""
    blocks = [unet.conv_in]
    for block in unet.down_blocks:
        blocks.extend(_units(block))
        if getattr(block, "downsamplers", None):
            blocks.append(block.downsamplers[0])
    return blocks


def output_blocks(unet: Any) -> list[Any]:
    """The modules whose outputs are the original numbering's output blocks 0, 1, 2 ..."""
    blocks: list[Any] = []
    for block in unet.up_blocks:
        units = _units(block)
        if getattr(block, "upsamplers", None):
            units[-1] = block.upsamplers[0]
        blocks.extend(units)
    return blocks


def taps_of(unet: Any, sdxl: bool) -> list[tuple[Any, float]]:
    """(module, rank) of every tap the UNet has (a small UNet may lack some of them)."""
    ins, outs = (SDXL_INPUTS, SDXL_OUTPUTS) if sdxl else (SD1_INPUTS, SD1_OUTPUTS)
    inputs, outputs = input_blocks(unet), output_blocks(unet)
    taps: list[tuple[Any, float]] = [(unet.mid_block, 0.0)]
    taps += [(inputs[i], 2.0 * (1.0 - w / len(ins))) for w, i in enumerate(ins) if i < len(inputs)]
    taps += [(outputs[i], 2.0 * w / len(outs)) for w, i in enumerate(outs) if i < len(outputs)]
    return taps


OFF, WRITE, READ = "off", "write", "read"  # what the reference layers do in the current UNet call


@dataclass
class PassState:
    """What the self-attention layers do in the current UNet call."""

    mode: str = OFF
    weight: float = 0.0  # the writing unit's weight for the attention layers (0: they keep nothing)
    adain_weight: float = 0.0  # and for the AdaIN taps
    fidelity: float = 0.0  # the writing unit's style fidelity
    uncond: int = 0  # rows of the unconditional half at the start of the batch (0: no CFG)


@dataclass
class AdainTap:
    """A forward hook on one tap: keeps its statistics (write) or renormalises to them (read)."""

    state: PassState
    rank: float
    means: list[Any] = field(default_factory=list)
    variances: list[Any] = field(default_factory=list)
    fidelities: list[float] = field(default_factory=list)

    def __call__(self, module: Any, args: Any, output: Any) -> Any:
        x = output[0] if isinstance(output, tuple) else output
        y = self.apply(x)
        if y is x:
            return None
        return (y, *output[1:]) if isinstance(output, tuple) else y

    def apply(self, x: Any) -> Any:
        import torch

        state = self.state
        if state.mode == WRITE and state.adain_weight > self.rank:
            var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, correction=0)
            self.means.append(mean)
            self.variances.append(var)
            self.fidelities.append(state.fidelity)
        if state.mode != READ or not self.means:
            return x
        y = self._renormalised(x)
        self.clear()
        return y

    def _renormalised(self, x: Any) -> Any:
        import torch

        var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, correction=0)
        target_mean = sum(self.means) / len(self.means)
        target_std = (sum(self.variances) / len(self.variances)).clamp_min(EPS).sqrt()
        y = (x.float() - mean) / var.clamp_min(EPS).sqrt() * target_std + target_mean
        fidelity = sum(self.fidelities) / len(self.fidelities)
        rows = self.state.uncond
        if rows and fidelity > 1e-5:
            y[:rows] = fidelity * x[:rows].float() + (1.0 - fidelity) * y[:rows]
        return y.to(x.dtype)

    def clear(self) -> None:
        self.means.clear()
        self.variances.clear()
        self.fidelities.clear()
