"""Depth Anything (V1) depth maps for ControlNet (``depth_anything``): near is white, far is black.

The network is a DINOv2 vision transformer with 14-pixel patches and a DPT head over the outputs of
its last four blocks. Its weight files are those of the ControlNet extension's annotator folder
``depth_anything``: ``depth_anything_vitl14.pth`` (the large encoder, the one the extension uses),
or ``depth_anything_vitb14.pth`` / ``depth_anything_vits14.pth`` (base, small). The encoder's size,
the number of blocks and the head's widths are read from the file's tensor shapes, so any of the
three loads strictly under its own key names (``pretrained.*`` for the encoder, ``depth_head.*``).

Encoder: the picture is cut into 14x14 patches (one convolution), a class token is put in front and
learned position embeddings (for a 37x37 grid, scaled bicubically to the picture's grid) are added;
each block is a pre-norm attention and a pre-norm GELU MLP, each scaled per channel (layer scale)
and added back. The outputs of the last four blocks, layer-normed, without the class token, are the
four feature maps.

Head: each map goes through a 1x1 convolution and is brought to 4x, 2x, 1x and 1/2x the patch grid
(transposed convolutions / a stride-2 convolution), then to the head's width by a 3x3 convolution;
four fusion blocks (residual 3x3 units, bilinear 2x upscaling, a 1x1 convolution) merge them from the
coarsest up; a 3x3 convolution, a bilinear scale to the network input's size and two more
convolutions, each followed by a ReLU, give the relative inverse depth.

Around the network Maple does what the extension does, so the maps match: the picture is padded to a
multiple of 64 (edge pixels repeated), its channels are fed in blue, green, red order (the extension
hands the network its RGB picture through a BGR-to-RGB conversion), it is scaled bicubically so its
shorter side is at least 518 pixels and both sides are multiples of 14, and normalised with the
ImageNet mean and spread. The network's answer is scaled back to the padded size, stretched to
0..255 over its own minimum and maximum and cut to whole grey levels, the padding cut off; the map
is that grey in three channels, in [0, 1].

Weights are read only from local folders (``annotators.find_weights``) with torch's weights-only
loader; a file that is not this network is refused naming it.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.generation.annotators import AnnotatorMissingError

log = logging.getLogger(__name__)
Array = np.ndarray[Any, Any]
FOLDER = "depth_anything"
FILES = ("depth_anything_vitl14.pth", "depth_anything_vitb14.pth", "depth_anything_vits14.pth")
PATCH = 14
NET_SIZE = 518  # the shorter side the network sees, at least
PAD_TO = 64
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
CHANNEL_ORDER = (2, 1, 0)  # the picture's channels as the extension hands them to the network
HEADS = {384: 6, 768: 12, 1024: 16}  # encoder width -> attention heads (ViT-S, ViT-B, ViT-L)
TAKEN_BLOCKS = 4  # the head reads the last four blocks
POS_OFFSET = 0.1  # added to the target grid before the position embeddings are scaled
_NETS: dict[tuple[str, int], Any] = {}


def _layout(state: dict[str, Any]) -> dict[str, Any]:
    """The network's sizes read from a state dict's shapes (refused when a needed tensor is missing)."""
    need = ("pretrained.patch_embed.proj.weight", "pretrained.pos_embed", "depth_head.scratch.layer1_rn.weight")
    missing = [k for k in need if k not in state]
    if missing:
        raise ValueError(f"it has no {missing[0]}: not a Depth Anything network")
    dim = int(state["pretrained.patch_embed.proj.weight"].shape[0])
    blocks = 0
    while f"pretrained.blocks.{blocks}.attn.qkv.weight" in state:
        blocks += 1
    if blocks < TAKEN_BLOCKS:
        raise ValueError(f"it has {blocks} encoder blocks; the depth head reads the last {TAKEN_BLOCKS}")
    outs = [int(state[f"depth_head.projects.{i}.weight"].shape[0]) if f"depth_head.projects.{i}.weight" in state
            else 0 for i in range(4)]
    if 0 in outs:
        raise ValueError("its depth head has fewer than four projections")
    return {"dim": dim, "heads": HEADS.get(dim, max(1, dim // 64)), "blocks": blocks,
            "tokens": int(state["pretrained.pos_embed"].shape[1]), "outs": tuple(outs),
            "features": int(state["depth_head.scratch.layer1_rn.weight"].shape[0])}


def _encoder(dim: int, heads: int, blocks: int, tokens: int) -> Any:
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch import nn


    class LayerScale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(dim))

        def forward(self, x: Any) -> Any:
            return x * self.gamma

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(dim, dim * 3)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x: Any) -> Any:
            b, n, c = x.shape
            q, k, v = self.qkv(x).reshape(b, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
            return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, c))

    class Mlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(dim, dim * 4)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(dim * 4, dim)

        def forward(self, x: Any) -> Any:
            return self.fc2(self.act(self.fc1(x)))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1, self.attn, self.ls1 = nn.LayerNorm(dim, eps=1e-6), Attention(), LayerScale()
            self.norm2, self.mlp, self.ls2 = nn.LayerNorm(dim, eps=1e-6), Mlp(), LayerScale()

        def forward(self, x: Any) -> Any:
            x = x + self.ls1(self.attn(self.norm1(x)))
            return x + self.ls2(self.mlp(self.norm2(x)))

    class PatchEmbed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Conv2d(3, dim, PATCH, PATCH)

        def forward(self, x: Any) -> Any:
            return self.proj(x).flatten(2).transpose(1, 2)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
            self.mask_token = nn.Parameter(torch.zeros(1, dim))  # used in training only; kept for the key set
            self.patch_embed = PatchEmbed()
            self.blocks = nn.ModuleList([Block() for _ in range(blocks)])
            self.norm = nn.LayerNorm(dim, eps=1e-6)

        def positions(self, rows: int, cols: int) -> Any:
            grid = self.pos_embed.shape[1] - 1
            if rows * cols == grid and rows == cols:
                return self.pos_embed
            side = math.sqrt(grid)
            patches = self.pos_embed[:, 1:].float().reshape(1, int(side), int(side), dim).permute(0, 3, 1, 2)
            scale = ((rows + POS_OFFSET) / side, (cols + POS_OFFSET) / side)
            patches = F.interpolate(patches, scale_factor=scale, mode="bicubic")
            if tuple(patches.shape[-2:]) != (rows, cols):
                raise ValueError(f"position grid {tuple(patches.shape[-2:])} for a {rows}x{cols} picture grid")
            patches = patches.permute(0, 2, 3, 1).reshape(1, rows * cols, dim)
            return torch.cat((self.pos_embed[:, :1], patches.to(self.pos_embed.dtype)), dim=1)

        def forward(self, x: Any) -> list[Any]:
            rows, cols = x.shape[2] // PATCH, x.shape[3] // PATCH
            tokens = self.patch_embed(x)
            tokens = torch.cat((self.cls_token.expand(tokens.shape[0], -1, -1), tokens), dim=1)
            tokens = tokens + self.positions(rows, cols)
            taken = []
            for i, block in enumerate(self.blocks):
                tokens = block(tokens)
                if i >= len(self.blocks) - TAKEN_BLOCKS:
                    taken.append(self.norm(tokens)[:, 1:])
            return taken

    return Encoder()


def _head(dim: int, outs: tuple[int, ...], features: int) -> Any:
    import torch.nn.functional as F  # noqa: N812
    from torch import nn


    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(features, features, 3, padding=1)
            self.conv2 = nn.Conv2d(features, features, 3, padding=1)

        def forward(self, x: Any) -> Any:
            return x + self.conv2(F.relu(self.conv1(F.relu(x))))

    class Fusion(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.out_conv = nn.Conv2d(features, features, 1)
            self.resConfUnit1 = Residual()  # noqa: N815 (the file's key name)
            self.resConfUnit2 = Residual()  # noqa: N815

        def forward(self, x: Any, skip: Any = None, size: Any = None) -> Any:
            if skip is not None:
                x = x + self.resConfUnit1(skip)
            x = self.resConfUnit2(x)
            if size is None:
                x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)
            else:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=True)
            return self.out_conv(x)

    class Scratch(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for i, ch in enumerate(outs, start=1):
                setattr(self, f"layer{i}_rn", nn.Conv2d(ch, features, 3, padding=1, bias=False))
            for i in range(1, 5):
                setattr(self, f"refinenet{i}", Fusion())
            self.output_conv1 = nn.Conv2d(features, features // 2, 3, padding=1)
            self.output_conv2 = nn.Sequential(nn.Conv2d(features // 2, 32, 3, padding=1), nn.ReLU(),
                                              nn.Conv2d(32, 1, 1), nn.ReLU(), nn.Identity())

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.projects = nn.ModuleList([nn.Conv2d(dim, ch, 1) for ch in outs])
            self.resize_layers = nn.ModuleList([
                nn.ConvTranspose2d(outs[0], outs[0], 4, 4), nn.ConvTranspose2d(outs[1], outs[1], 2, 2),
                nn.Identity(), nn.Conv2d(outs[3], outs[3], 3, 2, 1)])
            self.scratch = Scratch()

        def forward(self, taken: list[Any], rows: int, cols: int) -> Any:
            maps = []
            for i, tokens in enumerate(taken):
                x = tokens.permute(0, 2, 1).reshape(tokens.shape[0], tokens.shape[-1], rows, cols)
                maps.append(self.resize_layers[i](self.projects[i](x)))
            s: Any = self.scratch
            l1, l2, l3, l4 = (getattr(s, f"layer{i + 1}_rn")(m) for i, m in enumerate(maps))
            path = s.refinenet4(l4, size=l3.shape[2:])
            path = s.refinenet3(path, l3, size=l2.shape[2:])
            path = s.refinenet2(path, l2, size=l1.shape[2:])
            path = s.refinenet1(path, l1)
            out = F.interpolate(s.output_conv1(path), (rows * PATCH, cols * PATCH), mode="bilinear", align_corners=True)
            return s.output_conv2(out)

    return Head()


def build(layout: dict[str, Any]) -> Any:
    """The network (random weights) for a layout as ``_layout`` reads it from a file."""
    import torch.nn.functional as F  # noqa: N812
    from torch import nn


    class DepthAnything(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pretrained = _encoder(layout["dim"], layout["heads"], layout["blocks"], layout["tokens"])
            self.depth_head = _head(layout["dim"], layout["outs"], layout["features"])

        def forward(self, x: Any) -> Any:
            h, w = x.shape[-2:]
            depth = self.depth_head(self.pretrained(x), h // PATCH, w // PATCH)
            return F.relu(F.interpolate(depth, size=(h, w), mode="bilinear", align_corners=True))[:, 0]

    return DepthAnything()


def real_layout(encoder: str) -> dict[str, Any]:
    """The layouts of the three published files (``vits``, ``vitb``, ``vitl``)."""
    dims = {"vits": (384, 12, 64, (48, 96, 192, 384)), "vitb": (768, 12, 128, (96, 192, 384, 768)),
            "vitl": (1024, 24, 256, (256, 512, 1024, 1024))}
    dim, blocks, features, outs = dims[encoder]
    grid = NET_SIZE // PATCH
    return {"dim": dim, "heads": HEADS[dim], "blocks": blocks, "tokens": grid * grid + 1, "outs": outs,
            "features": features}


def depth_network(path: Path) -> Any:
    """The network of a weight file, loaded strictly through the weights-only loader (kept for reuse)."""
    import torch

    key = (str(path), path.stat().st_mtime_ns)
    if key not in _NETS:
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
            if not isinstance(state, dict):
                raise ValueError(f"it holds a {type(state).__name__}, not a state dict")
            net = build(_layout(state))
            net.load_state_dict(state, strict=True)
        except Exception as exc:  # a damaged file, a pickle that wants to run code, other keys or shapes
            raise AnnotatorMissingError(f"{path.name} cannot be used as the depth_anything network: {exc}"[:400],
                                        f"Put the Depth Anything annotator's own {FILES[0]} "
                                        f"(or {FILES[1]} / {FILES[2]}) there.") from exc
        _NETS.clear()
        _NETS[key] = net.eval().requires_grad_(False)
        log.info("depth_anything network from %s", path)
    return _NETS[key]


def net_size(h: int, w: int) -> tuple[int, int]:
    """The size the network sees: the shorter side at least ``NET_SIZE``, both multiples of ``PATCH``."""
    scale = max(NET_SIZE / h, NET_SIZE / w)

    def side(x: float) -> int:
        y = int(round(x / PATCH)) * PATCH
        return y if y >= NET_SIZE else int(math.ceil(x / PATCH)) * PATCH

    return side(scale * h), side(scale * w)


def run_depth_anything(image: Array, path: Path) -> Array:
    """The depth map of an HxWx3 uint8 picture: HxWx3 float in [0, 1], near white."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    net = depth_network(path)
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, -h % PAD_TO), (0, -w % PAD_TO), (0, 0)), mode="edge")[..., list(CHANNEL_ORDER)]
    ph, pw = padded.shape[:2]
    x = torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    x = F.interpolate(x, size=net_size(ph, pw), mode="bicubic", align_corners=False)
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    with torch.inference_mode():
        depth = net(x)
        depth = F.interpolate(depth[None], size=(ph, pw), mode="bilinear", align_corners=False)[0, 0]
    low, high = float(depth.min()), float(depth.max())
    spread = high - low
    grey = np.zeros((ph, pw), np.float32) if spread <= 0 or not math.isfinite(spread) else \
        np.floor(((depth - low) / spread * 255.0).numpy()).clip(0, 255).astype(np.float32)
    grey = grey[:h, :w] / 255.0
    return np.repeat(grey[..., None], 3, axis=2)
