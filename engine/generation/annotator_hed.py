"""HED soft edges (``softedge_hed``, ``softedge_hedsafe``) and the scribble drawn from them (``scribble_hed``).

The network is the ControlNet annotators' RGB HED (``ControlNetHED.pth``, in the annotator folder
``hed``): a learned per-channel offset is taken off the 0..255 picture, then five VGG-style blocks
of 3x3 convolutions with ReLUs (64, 128, 256, 512, 512 channels; 2, 2, 3, 3, 3 convolutions; a 2x2
max-pool before every block but the first) each give a one-channel side output through a 1x1
convolution. The side outputs are scaled back to the picture's size (bilinear), averaged and put
through a sigmoid: the soft edge map. The picture is padded (edge pixels repeated) to a multiple
of 64 before the network and the padding cut off after, as the ControlNet extension does.

- ``softedge_hed``: that map, white edges on black, in 256 grey levels;
- ``softedge_hedsafe``: the map quantised to three levels (0, half, full), which keeps fewer
  texture details for ControlNet to copy;
- ``scribble_hed``: the map blurred, thinned to its ridges (a pixel stays where it is the largest
  of its two neighbours along at least one of the four directions) and kept above half
  brightness, then the strokes thickened by a blur and made pure white on black.

The weights are read only from local folders (``annotators.find_weights``) with torch's
weights-only loader; a file that is not this network is refused naming it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from engine.generation.annotators import AnnotatorMissingError

log = logging.getLogger(__name__)
Array = np.ndarray[Any, Any]
WEIGHTS = ("hed", "ControlNetHED.pth")  # (annotator folder, file)
PAD_TO = 64
BLOCKS = ((3, 64, 2), (64, 128, 2), (128, 256, 3), (256, 512, 3), (512, 512, 3))  # (in, out, convolutions)
STROKE_LEVEL = 127  # ridges brighter than this become strokes
STROKE_SIGMA = 3.0
_NETS: dict[tuple[str, int], Any] = {}


def build_network() -> Any:
    """The HED network with fresh weights, named as in ``ControlNetHED.pth``."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch import nn

    class SideBlock(nn.Module):
        def __init__(self, cin: int, cout: int, count: int) -> None:
            super().__init__()
            self.convs = nn.ModuleList(nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1) for i in range(count))
            self.projection = nn.Conv2d(cout, 1, 1)

        def forward(self, x: Any, pool: bool) -> tuple[Any, Any]:
            if pool:
                x = F.max_pool2d(x, 2, 2)
            for conv in self.convs:
                x = F.relu(conv(x))
            return x, self.projection(x)

    class HedNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.Parameter(torch.zeros(1, 3, 1, 1))
            for i, (cin, cout, count) in enumerate(BLOCKS, start=1):
                self.add_module(f"block{i}", SideBlock(cin, cout, count))

        def forward(self, x: Any) -> list[Any]:
            h, sides = x - self.norm, []
            for i in range(1, len(BLOCKS) + 1):
                h, side = getattr(self, f"block{i}")(h, i > 1)
                sides.append(side)
            return sides

    return HedNetwork()


def hed_network(path: Path) -> Any:
    """The network with the weights of ``path`` (the last one loaded is kept)."""
    import torch

    key = (str(path), path.stat().st_mtime_ns)
    if key not in _NETS:
        net = build_network()
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            net.load_state_dict(state, strict=True)
        except Exception as exc:  # a damaged file, a pickle that wants to run code, another network
            raise AnnotatorMissingError(f"{path.name} cannot be used as the HED network: {exc}"[:400],
                                        f"Put the ControlNet annotators' own {WEIGHTS[1]} there.") from exc
        log.info("HED network loaded from %s", path)
        _NETS.clear()
        _NETS[key] = net.eval().requires_grad_(False)
    return _NETS[key]


def edge_probability(image: Array, path: Path) -> Array:
    """The HED edge map of an HxWx3 uint8 picture: HxW float, 0 (no edge) to 1."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    net = hed_network(path)
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, -h % PAD_TO), (0, -w % PAD_TO), (0, 0)), mode="edge")
    x = torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32)).permute(2, 0, 1)[None]
    with torch.no_grad():
        sides = [F.interpolate(s, size=padded.shape[:2], mode="bilinear", align_corners=False) for s in net(x)]
        mean = torch.cat(sides, dim=1).mean(dim=1)[0, :h, :w].numpy().astype(np.float64)
    return np.asarray(1.0 / (1.0 + np.exp(-mean.clip(-50.0, 50.0))))  # clipped: no overflow, same picture


def grey_levels(edge: Array) -> Array:
    """An edge map in [0, 1] as 256 grey levels (uint8, rounded down)."""
    return np.asarray((edge * 255.0).clip(0, 255).astype(np.uint8))


def three_levels(edge: Array) -> Array:
    """An edge map in [0, 1] kept to 0, 0.5 and 1: each third of the range becomes one step."""
    return np.asarray(np.floor(edge.astype(np.float32) * 3.0) / 2.0)


def gaussian(x: Array, sigma: float, radius_sigmas: float) -> Array:
    """A Gaussian blur with a kernel of ``radius_sigmas`` sigmas each side, edges mirrored."""
    from scipy import ndimage

    return np.asarray(ndimage.gaussian_filter(x.astype(np.float32), sigma, mode="mirror", truncate=radius_sigmas))


def ridges(edge: Array, level: float, sigma: float) -> Array:
    """Where the blurred ``edge`` map peaks across a line (along any of four directions) above ``level``.

    A pixel is a peak along a direction when neither neighbour that way is brighter (outside the
    picture counts as darker)."""
    x = gaussian(edge, sigma, 4.0)
    h, w = x.shape
    p = np.pad(x, 1, mode="constant", constant_values=-np.inf)

    def at(dy: int, dx: int) -> Array:
        return p[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w]

    peak = np.zeros(x.shape, bool)
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        peak |= (x >= at(dy, dx)) & (x >= at(-dy, -dx))
    return np.asarray(peak & (x > level))


def strokes(edge: Array) -> Array:
    """The scribble of a uint8 edge map: its ridges thickened a little, HxW bool (True is a stroke)."""
    thin = ridges(edge, STROKE_LEVEL, STROKE_SIGMA).astype(np.float32) * 255.0
    thick = np.round(gaussian(thin, STROKE_SIGMA, 3.0))
    return np.asarray(thick > 4)


def _gray3(values: Array) -> Array:
    return np.repeat(values.astype(np.float32)[..., None], 3, axis=2)


def run_softedge(image: Array, path: Path) -> Array:
    """``softedge_hed``: white soft edges on black, HxWx3 in [0, 1]."""
    return _gray3(grey_levels(edge_probability(image, path)) / 255.0)


def run_softedge_safe(image: Array, path: Path) -> Array:
    """``softedge_hedsafe``: the soft edges in three levels, HxWx3 in [0, 1]."""
    return _gray3(grey_levels(three_levels(edge_probability(image, path))) / 255.0)


def run_scribble(image: Array, path: Path) -> Array:
    """``scribble_hed``: white strokes on black (only 0 and 1), HxWx3."""
    return _gray3(strokes(grey_levels(edge_probability(image, path))))
