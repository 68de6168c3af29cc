"""Preprocessors with networks: their weight files, looked for only in local folders, and the lineart net.

Weights are never downloaded. They are looked for, in order, in the home's
``models/ControlNetPreprocessor/<folder>/`` (or directly in ``models/ControlNetPreprocessor/``) and in
each shared A1111 / 秋叶 folder's ``extensions/sd-webui-controlnet/annotator/downloads/<folder>/``
(where the extension keeps them) and ``models/ControlNetPreprocessor/``. A missing file is an error naming it and where to put it.

``lineart`` (and ``lineart_coarse``) run the informative-drawings line generator (``sk_model.pth``,
``sk_model2.pth``: 7x7 convolution, two stride-2 convolutions, three residual blocks, two
transposed convolutions, 7x7 convolution and a sigmoid, instance norms between), read through
torch's weights-only loader; the detected map is its drawing inverted (white lines on black).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from installer.errors import ModelError

log = logging.getLogger(__name__)
HOME_DIR = "models/ControlNetPreprocessor"  # Forge's name for it; outside models/ControlNet, so no list shows them
A1111_DIR = "extensions/sd-webui-controlnet/annotator/downloads"
_NETS: dict[tuple[str, int], Any] = {}


class AnnotatorMissingError(ModelError):
    code = "annotator-missing"
    status = 422


def weight_folders(home: Path, shared: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Where annotator weights may be: the home's folder, then each shared folder's extension folder."""
    roots = [str(home / HOME_DIR)]
    for entry in shared:
        root = Path(entry).expanduser()
        roots += [str(root / A1111_DIR), str(root / HOME_DIR)]
    return tuple(roots)


def find_weights(folder: str, name: str, roots: tuple[str, ...], others: tuple[str, ...] = ()) -> Path:
    """The first of ``name``, then ``others`` (files that may stand in for it), found under ``roots``."""
    for file in (name, *others):
        for root in roots:
            for candidate in (Path(root) / folder / file, Path(root) / file):
                if candidate.is_file():
                    return candidate
    where = Path(roots[0]) / folder / name if roots else Path(HOME_DIR) / folder / name
    instead, into = (f" (or {' / '.join(others)})", where.parent) if others else ("", where)
    raise AnnotatorMissingError(
        f"the preprocessor needs {name}{instead}, which is not in {into} nor in a shared folder's {A1111_DIR}/{folder}",
        f"Put {name}{instead} (from the ControlNet annotator weights) into {into}; Maple does not download it.")


def _line_generator(blocks: int) -> Any:
    from torch import nn

    def residual(ch: int) -> nn.Module:
        class Block(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.conv_block = nn.Sequential(
                    nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch), nn.ReLU(True),
                    nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3), nn.InstanceNorm2d(ch))

            def forward(self, x: Any) -> Any:
                return x + self.conv_block(x)

        return Block()

    class LineGenerator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model0 = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, 64, 7), nn.InstanceNorm2d(64), nn.ReLU(True))
            self.model1 = nn.Sequential(nn.Conv2d(64, 128, 3, 2, 1), nn.InstanceNorm2d(128), nn.ReLU(True),
                                        nn.Conv2d(128, 256, 3, 2, 1), nn.InstanceNorm2d(256), nn.ReLU(True))
            self.model2 = nn.Sequential(*[residual(256) for _ in range(blocks)])
            self.model3 = nn.Sequential(nn.ConvTranspose2d(256, 128, 3, 2, 1, 1), nn.InstanceNorm2d(128), nn.ReLU(True),
                                        nn.ConvTranspose2d(128, 64, 3, 2, 1, 1), nn.InstanceNorm2d(64), nn.ReLU(True))
            self.model4 = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(64, 1, 7), nn.Sigmoid())

        def forward(self, x: Any) -> Any:
            return self.model4(self.model3(self.model2(self.model1(self.model0(x)))))

    return LineGenerator()


def line_generator(path: Path) -> Any:
    import torch

    key = (str(path), path.stat().st_mtime_ns)
    if key not in _NETS:
        net = _line_generator(3)
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            net.load_state_dict(state, strict=True)
        except Exception as exc:  # a damaged file, a pickle that wants to run code, other shapes
            raise AnnotatorMissingError(f"{path.name} cannot be used as the lineart network: {exc}"[:400],
                                        "Put the ControlNet annotator's own sk_model.pth / sk_model2.pth there.") from exc
        _NETS.clear()
        _NETS[key] = net.eval().requires_grad_(False)
    return _NETS[key]


def run_lineart(image: np.ndarray[Any, Any], path: Path) -> np.ndarray[Any, Any]:
    """White lines on black, HxWx3 in [0, 1]."""
    import torch

    net = line_generator(path)
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, -h % 8), (0, -w % 8), (0, 0)), mode="edge")  # the net halves twice, then doubles
    x = torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        drawing = net(x)[0, 0, :h, :w].clamp(0, 1).numpy()
    lines = 1.0 - drawing
    return np.repeat(lines[..., None], 3, axis=2).astype(np.float32)
