"""Tiny random-weight ControlNets for tests, written in A1111's single-file layout.

Each is the ControlNet of a tiny UNet in assets/configs (``demo`` for SD1, ``tiny-sdxl``), with
fixed random weights everywhere (the zero convolutions too, so a unit visibly changes the
picture), renamed to the LDM names A1111's ``control_v11p_sd15_*`` files carry
(``control_model.input_blocks...``, ``input_hint_block``, ``zero_convs``, ``middle_block_out``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.models.configs import config_dir
from engine.models.ldm_keys import UNET_PREFIX, unet_to_ldm
from engine.models.synth import random_weights, write_checkpoint

FOLDERS = {"sd1": "demo", "sdxl": "tiny-sdxl", "shapes": "shapes"}  # shapes: fits the built-in model
CN_PREFIX = "control_model."


def unet_config(family: str) -> dict[str, Any]:
    return dict(json.loads((config_dir(FOLDERS[family]) / "unet" / "config.json").read_text()))


@lru_cache(maxsize=4)
def diffusers_state(family: str, seed: int) -> dict[str, Any]:
    """A tiny ``ControlNetModel``'s random weights, with diffusers names (float32)."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_config(unet_config(family))
    net = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
    return random_weights(dict(net.state_dict()), seed, torch.float32)


def to_ldm(state: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    """diffusers ControlNet names -> A1111's (``control_model.`` prefix)."""
    out: dict[str, Any] = {}
    shared = {}
    for key, value in state.items():
        if key.startswith("controlnet_cond_embedding."):
            out[CN_PREFIX + _hint_name(key, state)] = value
        elif key.startswith("controlnet_down_blocks."):
            _, index, rest = key.split(".", 2)
            out[f"{CN_PREFIX}zero_convs.{index}.0.{rest}"] = value
        elif key.startswith("controlnet_mid_block."):
            out[f"{CN_PREFIX}middle_block_out.0.{key.split('.', 1)[1]}"] = value
        else:
            shared[key] = value
    for key, value in unet_to_ldm(shared, cfg).items():
        out[CN_PREFIX + key[len(UNET_PREFIX):]] = value
    return out


def _hint_name(key: str, state: dict[str, Any]) -> str:
    rest = key[len("controlnet_cond_embedding."):]
    blocks = len({k.split(".")[2] for k in state if k.startswith("controlnet_cond_embedding.blocks.")})
    if rest.startswith("conv_in."):
        return "input_hint_block.0." + rest[len("conv_in."):]
    if rest.startswith("conv_out."):
        return f"input_hint_block.{2 * (blocks + 1)}." + rest[len("conv_out."):]
    _, index, tail = rest.split(".", 2)
    return f"input_hint_block.{2 * (int(index) + 1)}.{tail}"


def write_tiny_controlnet(path: Path, family: str = "sd1", seed: int = 3, layout: str = "a1111") -> Path:
    """A tiny ControlNet file for the tiny ``family`` (sd1, sdxl) models; ``.pth`` writes a torch file."""
    import torch

    state = diffusers_state(family, seed)
    if layout == "a1111":
        state = to_ldm(state, unet_config(family))
    state = {k: v.to(torch.float16).contiguous() for k, v in state.items()}
    if path.suffix == ".pth":
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, str(path))
        return path
    return write_checkpoint(path, state)
