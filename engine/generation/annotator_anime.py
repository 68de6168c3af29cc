"""The ``lineart_anime`` preprocessor's network: anime line art from a picture.

The network is a U-Net generator (the annotator file ``netG.pth``, in the annotator folder
``lineart_anime``): eight levels of stride-2 4x4 convolutions down to a 1x1 bottleneck and stride-2
4x4 transposed convolutions back up, each inner level's input joined to what the level makes of
it, instance norms without parameters, and a tanh at the end. The published file is
64 channels wide at the top level; the width is read from the file's first convolution, and every
other name and shape must be exactly the layout's (a leading ``module.`` left by a multi-GPU save is
dropped). The file is read with torch's weights-only loader, from the folders
``engine.generation.annotators`` looks in; nothing is downloaded.

The picture (already at the processor resolution) is padded with its edge pixels to a multiple of
64, scaled up (bicubic) to a multiple of 256 for the eight halvings, drawn (black lines on white),
scaled back, cut to the picture and inverted: the detected map is white lines on black, like
``lineart``. The network runs on the CPU.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from engine.generation.annotators import AnnotatorMissingError

log = logging.getLogger(__name__)
FOLDER = "lineart_anime"
FILE = "netG.pth"
WEIGHTS = (FOLDER, FILE)  # (annotator folder, file name) for preprocessors.Module
LEVELS = 8  # halvings: a 256-pixel side reaches 1 at the bottleneck
PUBLISHED_WIDTH = 64
FIRST_KEY = "model.model.0.weight"
_NETS: dict[tuple[str, int], Any] = {}
_LOCK = threading.Lock()
Array = np.ndarray[Any, Any]


def level_widths(width: int) -> list[int]:
    """The channels each level's down convolution makes, from the top level to the bottleneck."""
    return [width * min(2 ** k, 8) for k in range(LEVELS)]


def anime_line_net(width: int = PUBLISHED_WIDTH) -> Any:
    """The generator in ``netG.pth``'s layout (its state-dict names), ``width`` channels at the top."""
    import torch
    from torch import nn

    class Level(nn.Module):
        """An inner level: its input joined to the level's output (the level above applies a ReLU)."""

        def __init__(self, layers: list[nn.Module]) -> None:
            super().__init__()
            self.model = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            return torch.cat([x, self.model(x)], 1)

    class Top(nn.Module):
        def __init__(self, layers: list[nn.Module]) -> None:
            super().__init__()
            self.model = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            return self.model(x)

    class AnimeLineNet(nn.Module):
        def __init__(self, top: nn.Module) -> None:
            super().__init__()
            self.model = top

        def forward(self, x: Any) -> Any:
            return self.model(x)

    def down(c_in: int, c_out: int) -> nn.Module:
        return nn.Conv2d(c_in, c_out, 4, 2, 1)

    def up(c_in: int, c_out: int) -> nn.Module:
        return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)

    widths = level_widths(width)
    inner, outer = widths[-1], widths[-2]
    level = Level([nn.LeakyReLU(0.2), down(outer, inner), nn.ReLU(), up(inner, outer), nn.InstanceNorm2d(outer)])
    for k in range(LEVELS - 2, 0, -1):
        inner, outer = widths[k], widths[k - 1]
        level = Level([nn.LeakyReLU(0.2), down(outer, inner), nn.InstanceNorm2d(inner), level,
                       nn.ReLU(), up(2 * inner, outer), nn.InstanceNorm2d(outer)])
    top = Top([down(3, width), level, nn.ReLU(), up(2 * width, 1), nn.Tanh()])
    return AnimeLineNet(top)


def _refused(path: Path, why: str) -> AnnotatorMissingError:
    return AnnotatorMissingError(
        f"{path.name} cannot be used as the anime line-art network: {why}"[:400],
        f"Put the ControlNet annotator's own {FILE} (the lineart_anime network) there.")


def _load(path: Path) -> Any:
    import torch

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged file, or a pickle that wants to run code
        raise _refused(path, str(exc)) from exc
    if not isinstance(state, dict):
        raise _refused(path, f"it holds a {type(state).__name__}, not a state dict")
    state = {str(k).removeprefix("module."): v for k, v in state.items()}
    first = state.get(FIRST_KEY)
    if not isinstance(first, torch.Tensor) or first.ndim != 4 or tuple(first.shape[1:]) != (3, 4, 4) \
            or first.shape[0] < 1:
        raise _refused(path, f"it has no first convolution {FIRST_KEY} of shape [width, 3, 4, 4]")
    net = anime_line_net(int(first.shape[0]))
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # missing or unexpected names, other shapes
        raise _refused(path, str(exc)) from exc
    log.info("loaded the anime line-art network from %s (width %d)", path, int(first.shape[0]))
    return net.eval().requires_grad_(False)


def anime_line_net_from(path: Path) -> Any:
    """The network in ``path``, loaded once per file version (one kept at a time)."""
    key = (str(path), path.stat().st_mtime_ns)
    with _LOCK:
        if key not in _NETS:
            net = _load(path)
            _NETS.clear()
            _NETS[key] = net
        return _NETS[key]


def _resized(x: Any, size: tuple[int, int]) -> Any:
    import torch.nn.functional as F  # noqa: N812

    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bicubic", align_corners=False)


def run_lineart_anime(image: Array, path: Path) -> Array:
    """White lines on black from an HxWx3 uint8 picture: HxWx3 float in [0, 1]."""
    import torch

    net = anime_line_net_from(path)
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, -h % 64), (0, -w % 64), (0, 0)), mode="edge")
    ph, pw = padded.shape[:2]
    side = 2 ** LEVELS
    fed = (side * math.ceil(ph / side), side * math.ceil(pw / side))
    x = torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32)).permute(2, 0, 1)[None]
    x = _resized(x, fed).round().clamp(0, 255)  # the scaled picture, as 8-bit values
    with torch.no_grad():
        drawing = net(x / 127.5 - 1.0)  # tanh: -1 black line, 1 white paper
    drawing = _resized(drawing, (ph, pw))[0, 0, :h, :w]
    lines = ((1.0 - drawing) / 2.0).clamp(0, 1).numpy()
    return np.repeat(lines[..., None], 3, axis=2).astype(np.float32)
