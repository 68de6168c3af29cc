"""Synthetic checkpoints: a config folder's models with fixed random weights, in A1111's layout.

The demo model and the test models are made here. The weights come from one seeded generator
in a fixed key order, so the same config and seed always give the same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engine.models.configs import components, read_json
from engine.models.ldm_keys import (
    CLIP_PREFIX,
    clip_to_ldm,
    openclip_to_ldm,
    unet_to_ldm,
    vae_to_ldm,
)


def instantiate(folder: Path, name: str, device: str = "cpu") -> Any:
    """One component of a config folder with default-initialised weights (``meta`` for none)."""
    import torch

    with torch.device(device):
        if name == "unet":
            from diffusers import UNet2DConditionModel

            return UNet2DConditionModel.from_config(read_json(folder / "unet" / "config.json"))
        if name == "vae":
            from diffusers import AutoencoderKL

            return AutoencoderKL.from_config(read_json(folder / "vae" / "config.json"))
        import transformers
        from transformers import CLIPTextConfig

        cls = getattr(transformers, components(folder)[name][1])
        return cls(CLIPTextConfig.from_json_file(str(folder / name / "config.json")))


def family(folder: Path) -> str:
    """Which text-encoder layout a folder's checkpoints use: sd1, sd2, sdxl or sdxl-refiner."""
    comps = components(folder)
    if "text_encoder_2" in comps:
        return "sdxl" if "text_encoder" in comps else "sdxl-refiner"
    act = read_json(folder / "text_encoder" / "config.json").get("hidden_act")
    return "sd2" if act == "gelu" else "sd1"


def ldm_state_dict(folder: Path, parts: dict[str, Any]) -> dict[str, Any]:
    """Convert diffusers-layout state dicts (``unet``, ``vae``, text encoders) to LDM names."""
    import torch

    clip_prefix, open_prefix = CLIP_PREFIX[family(folder)]
    out = unet_to_ldm(parts["unet"], read_json(folder / "unet" / "config.json"))
    out.update(vae_to_ldm(parts["vae"], read_json(folder / "vae" / "config.json")))
    if clip_prefix:
        out.update(clip_to_ldm(parts["text_encoder"], clip_prefix))
    if open_prefix:
        key = "text_encoder_2" if "text_encoder_2" in parts else "text_encoder"
        out.update(openclip_to_ldm(parts[key], open_prefix, torch.cat))
    return out


def model_names(folder: Path) -> list[str]:
    return [n for n in ("unet", "vae", "text_encoder", "text_encoder_2") if n in components(folder)]


def random_weights(state: dict[str, Any], seed: int, dtype: Any) -> dict[str, Any]:
    """Fixed random values for every tensor: norms 1, biases 0, others scaled by fan-in.

    ``state`` maps names to tensors (any device, ``meta`` included) or to bare shapes.
    """
    import torch

    gen = torch.Generator("cpu").manual_seed(seed)
    out = {}
    for key in sorted(state):
        shape = tuple(getattr(state[key], "shape", state[key]))
        if key.endswith("bias"):
            value = torch.zeros(shape)
        elif len(shape) == 1:
            value = torch.ones(shape)
        else:
            scale = 0.02 if "embedding" in key else 1.0 / math.sqrt(math.prod(shape[1:]))
            value = torch.randn(shape, generator=gen) * scale
        out[key] = value.to(dtype)
    return out


def part_shapes(folder: Path) -> dict[str, dict[str, tuple[int, ...]]]:
    """Each model's tensor names and shapes (diffusers layout), from the model classes themselves."""
    return {name: {k: tuple(v.shape) for k, v in instantiate(folder, name, device="meta").state_dict().items()}
            for name in model_names(folder)}


def build_checkpoint(folder: Path, seed: int = 0, dtype: Any = None,
                     shapes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """A full single-file state dict (LDM names) for the models a config folder describes.

    ``shapes`` (as ``part_shapes`` gives them) skips building the models, which needs diffusers'
    and transformers' model classes imported: seconds on a cold start.
    """
    import torch

    dtype = dtype or torch.float16
    shapes = shapes if shapes is not None else part_shapes(folder)
    parts = {}
    for i, name in enumerate(model_names(folder)):
        parts[name] = random_weights(shapes[name], seed + i, dtype)
    ldm = ldm_state_dict(folder, parts)
    return {k: v.contiguous() for k, v in sorted(ldm.items())}


def write_checkpoint(path: Path, state: dict[str, Any], metadata: dict[str, str] | None = None) -> Path:
    """Save with safetensors, atomically (a temp file beside the target, then a rename)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata=metadata or {})
    tmp.replace(path)
    return path
