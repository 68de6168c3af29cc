"""Tiny upscaler model files for tests, in the layouts users download, with fixed random weights.

``esrgan_state`` has Real-ESRGAN's RRDBNet tensor names (``conv_first``, ``body.N.rdbK.convJ``,
``conv_up1/2``, ``conv_hr``, ``conv_last``; what RealESRGAN_x4plus.pth holds inside ``params_ema``)
and ``compact_state`` the SRVGG "Compact" layout (``body.N``, a pixel shuffle at the end). A few
channels and one block each: they load through spandrel and upscale a picture in milliseconds.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import torch

GROWTH = 32  # the RRDB growth channels spandrel's ESRGAN assumes


def _conv(gen: torch.Generator, out_ch: int, in_ch: int, gain: float = 0.8) -> tuple[torch.Tensor, torch.Tensor]:
    std = gain / math.sqrt(in_ch * 9)
    return torch.randn(out_ch, in_ch, 3, 3, generator=gen) * std, torch.randn(out_ch, generator=gen) * 0.01


def _put(state: dict[str, torch.Tensor], name: str, pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    state[f"{name}.weight"], state[f"{name}.bias"] = pair


def esrgan_state(features: int = 8, blocks: int = 1, seed: int = 0) -> dict[str, torch.Tensor]:
    """A 4x Real-ESRGAN RRDBNet state dict (new layout) with ``blocks`` RRDB blocks."""
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    _put(state, "conv_first", _conv(gen, features, 3))
    for b in range(blocks):
        for r in (1, 2, 3):
            for j in range(1, 6):
                out_ch = features if j == 5 else GROWTH
                _put(state, f"body.{b}.rdb{r}.conv{j}", _conv(gen, out_ch, features + (j - 1) * GROWTH))
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        _put(state, name, _conv(gen, features, features))
    weight, _ = _conv(gen, 3, features, gain=1.2)  # a picture around grey, neither flat nor clipped
    state["conv_last.weight"], state["conv_last.bias"] = weight, torch.full((3,), 0.5)
    return state


def compact_state(features: int = 8, convs: int = 2, scale: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    """An SRVGG "Compact" state dict: ``convs`` body convolutions, PReLU, a pixel shuffle by ``scale``."""
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    _put(state, "body.0", _conv(gen, features, 3))
    state["body.1.weight"] = torch.full((features,), 0.25)
    for i in range(convs):
        _put(state, f"body.{2 * i + 2}", _conv(gen, features, features))
        state[f"body.{2 * i + 3}.weight"] = torch.full((features,), 0.25)
    weight, bias = _conv(gen, 3 * scale * scale, features, gain=0.3)
    state[f"body.{2 * convs + 2}.weight"], state[f"body.{2 * convs + 2}.bias"] = weight, bias
    return state


def write_pth(path: Path, state: dict[str, torch.Tensor], wrap: str | None = "params_ema") -> Path:
    """``state`` saved with torch.save, inside ``{wrap: state}`` as Real-ESRGAN's releases are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({wrap: state} if wrap else state, path)
    return path


def write_safetensors(path: Path, state: dict[str, torch.Tensor]) -> Path:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


class _Trap:
    """Unpickling this would call ``print``: what the weights-only loader must refuse to run."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (print, ("pickled code ran",))


def write_pickle_trap(path: Path) -> Path:
    """A .pth whose pickle carries code next to real tensors."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        torch.save({"params_ema": esrgan_state(), "trap": _Trap()}, fh, pickle_module=pickle)
    return path
