"""What a model file is before it loads: checks that raise clear errors, cheaply.

``inspect_checkpoint`` reads a safetensors header (kilobytes) or, for a ``.ckpt``, the tensors
through torch's weights-only unpickler; a diffusers folder is read from its JSON files. Nothing
here touches the model currently in use.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.models.configs import (
    ARCH_NAMES_SUPPORTED,
    CONFIG_METADATA_KEY,
    LOADS_AS,
    resolve_config,
)
from engine.models.errors import PickleRefusedError, UnsupportedModelError, not_found_hint
from installer.errors import BrokenModelError, ModelNotFoundError
from installer.store.architectures import prediction_markers
from installer.store.modelfile import ARCH_NAMES, Header, classify, inspect

KIND_HINT = {
    "lora": "it is a LoRA: put it into models/Lora and use <lora:NAME:1> in the prompt",
    "vae": "it is a VAE: put it into models/VAE and choose it as the VAE",
    "taesd": "it is a preview decoder (TAESD), not a checkpoint",
    "upscaler": "it is an upscaler: put it into models/ESRGAN and choose it in hires fix or Extras",
}


@dataclass
class CheckpointInfo:
    path: Path
    format: str  # "safetensors" | "ckpt" | "diffusers"
    arch: str
    config_dir: Path | None
    metadata: dict[str, str] = field(default_factory=dict)
    state_dict: dict[str, Any] | None = None  # a .ckpt's tensors, already read
    v_prediction: bool = False  # the file carries the v_pred marker (SDXL v-prediction models)
    zero_snr: bool = False  # the ztsnr marker: zero terminal SNR noise schedule


def inspect_checkpoint(path: Path, allow_pickle: bool = False) -> CheckpointInfo:
    if not path.exists():
        raise ModelNotFoundError(f"Model file not found: {path}", not_found_hint("checkpoint"))
    if path.is_dir():
        return _inspect_folder(path)
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        header, kind, arch = inspect(path)  # BrokenModelError for a damaged or truncated file
        return _checked(path, "safetensors", header, kind, arch)
    if suffix in (".ckpt", ".pt", ".pth", ".bin"):
        state, metadata = read_ckpt(path, allow_pickle)
        header = Header({k: {"shape": list(v.shape), "data_offsets": [0, 0]} for k, v in state.items()
                         if hasattr(v, "shape")}, metadata, 0, 0)
        kind, arch = classify(header)
        info = _checked(path, "ckpt", header, kind, arch)
        info.state_dict = state
        return info
    raise UnsupportedModelError(f"{path.name}: Maple loads .safetensors, .ckpt and diffusers folders")


def _checked(path: Path, fmt: str, header: Header, kind: str, arch: str) -> CheckpointInfo:
    if kind != "checkpoint":
        why = KIND_HINT.get(kind, "no Stable Diffusion UNet was found in it")
        raise UnsupportedModelError(f"{path.name} is not a Stable Diffusion checkpoint: {why}")
    if LOADS_AS.get(arch, arch) not in ARCH_NAMES_SUPPORTED and CONFIG_METADATA_KEY not in header.metadata:
        name = ARCH_NAMES.get(arch, arch)
        raise UnsupportedModelError(f"{path.name} is a {name} model; Maple does not support {name} yet",
                                    "Maple runs SD1.x, SD2.x and SDXL checkpoints (inpainting and v-prediction ones too).")
    folder, arch = resolve_config(arch, header.metadata)
    v_pred, zero_snr = prediction_markers(header.tensors)
    return CheckpointInfo(path, fmt, arch, folder, header.metadata, v_prediction=v_pred, zero_snr=zero_snr)


def read_ckpt(path: Path, allow_pickle: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """A .ckpt's state dict and its string entries (Maple's ``maple.config``), tensors only
    unless ``allow_pickle`` (unpickling arbitrary objects may run code)."""
    import torch

    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=not allow_pickle)
    except pickle.UnpicklingError as exc:
        raise PickleRefusedError(
            f"{path.name} holds more than tensors (pickled Python objects), so Maple did not load it"
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise BrokenModelError(f"{path.name} cannot be read as a checkpoint ({exc.__class__.__name__}: "
                               f"{str(exc)[:200]})") from exc
    metadata = {k: v for k, v in obj.items() if isinstance(v, str)} if isinstance(obj, dict) else {}
    while isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise BrokenModelError(f"{path.name} does not contain a state dict")
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}, metadata


def _inspect_folder(path: Path) -> CheckpointInfo:
    from engine.models.configs import read_json

    try:
        index = read_json(path / "model_index.json")
        unet = read_json(path / "unet" / "config.json")
    except (OSError, ValueError) as exc:
        raise BrokenModelError(f"{path.name} is not a complete diffusers model folder ({exc})") from exc
    return CheckpointInfo(path, "diffusers", folder_arch(index, unet), None)


def folder_arch(index: dict[str, Any], unet: dict[str, Any]) -> str:
    cls = str(index.get("_class_name", ""))
    if "XL" in cls:
        return "sdxl" if isinstance(index.get("text_encoder"), list) and index["text_encoder"][0] else "sdxl-refiner"
    if unet.get("in_channels") == 9:
        return "sd1-inpaint"
    return "sd2" if unet.get("cross_attention_dim") == 1024 else "sd1"
