"""Tiny real models for tests: checkpoints, VAEs, LoRAs and .ckpt files, written on demand.

Every helper writes a real file in the format users have (A1111's single-file layout, kohya
LoRAs, diffusers LoRAs) with fixed random weights, small enough to load and generate in well
under a second on a CPU. Engineers reuse these: import from ``tests.engine.tinymodels``.

Checkpoints carry the safetensors metadata ``maple.config`` naming the small config folder in
assets/configs they fit (``tiny-sd1``, ``tiny-sd1-inpaint``, ``tiny-sd2``, ``tiny-sdxl``), so the
engine loads them like real ones of that architecture.
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.models.configs import TINY_CONFIGS, config_dir
from engine.models.ldm_keys import vae_to_ldm
from engine.models.synth import build_checkpoint, instantiate, random_weights, write_checkpoint

VARIANTS = {"sd1": "tiny-sd1", "sd1-inpaint": "tiny-sd1-inpaint", "sd2": "tiny-sd2", "sdxl": "tiny-sdxl",
            "sdxl-inpaint": "tiny-sdxl-inpaint"}
# The tiny SD1 UNet's attention projections a LoRA can target, in diffusers and LDM naming.
UNET_LORA_TARGETS = {
    "down_blocks_0_attentions_0": "input_blocks_1_1",
    "down_blocks_0_attentions_1": "input_blocks_2_1",
    "up_blocks_1_attentions_0": "output_blocks_3_1",
    "up_blocks_1_attentions_1": "output_blocks_4_1",
    "up_blocks_1_attentions_2": "output_blocks_5_1",
    "mid_block_attentions_0": "middle_block_1",
}
ATTN_PROJ = ("attn1_to_q", "attn1_to_k", "attn1_to_v", "attn1_to_out_0", "attn2_to_q", "attn2_to_out_0")


@lru_cache(maxsize=16)
def _state(variant: str, seed: int) -> dict[str, Any]:
    folder = config_dir(VARIANTS[variant]) if variant in VARIANTS else config_dir(variant)
    return build_checkpoint(folder, seed=seed)


def write_tiny_checkpoint(path: Path, variant: str = "sd1", seed: int = 0,
                          metadata: dict[str, str] | None = None) -> Path:
    """A tiny checkpoint of ``variant`` (sd1, sd1-inpaint, sd2, sdxl) in A1111's layout."""
    meta = {"maple.config": VARIANTS[variant]}
    meta.update(metadata or {})
    return write_checkpoint(path, dict(_state(variant, seed)), meta)


def write_tiny_vae(path: Path, seed: int = 7, prefix: str = "") -> Path:
    """A VAE file for the tiny SD1 models (keys like A1111 VAE files: ``encoder.conv_in...``)."""
    import torch

    folder = config_dir("demo")
    shapes = instantiate(folder, "vae", device="meta").state_dict()
    weights = random_weights(shapes, seed, torch.float16)
    cfg = json.loads((folder / "vae" / "config.json").read_text())
    return write_checkpoint(path, vae_to_ldm(weights, cfg, prefix=prefix))


def lora_tensors(rank: int = 4, seed: int = 3, ldm_names: bool = False, alpha: float = 4.0,
                 text_encoder: bool = True, scale: float = 0.5, unet_layers: bool = True) -> dict[str, Any]:
    """A kohya-format LoRA for the tiny SD1 models (``lora_unet_*``, ``lora_te_*``)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    unet = instantiate(config_dir("demo"), "unet", device="meta").state_dict()
    out: dict[str, Any] = {}
    for block, ldm in UNET_LORA_TARGETS.items() if unet_layers else ():
        for proj in ATTN_PROJ:
            dotted = _dotted(block) + ".transformer_blocks.0." + proj.replace("_to_", ".to_").replace("out_0", "out.0")
            w = unet[dotted + ".weight"]
            name = f"lora_unet_{ldm if ldm_names else block}_transformer_blocks_0_{proj}"
            _pair(out, name, w.shape[1], w.shape[0], rank, alpha, gen, scale)
    if text_encoder:
        for i in range(2):
            for proj, dims in (("self_attn_q_proj", (32, 32)), ("mlp_fc1", (32, 128))):
                _pair(out, f"lora_te_text_model_encoder_layers_{i}_{proj}", dims[0], dims[1], rank, alpha, gen, scale)
    return out


def _dotted(block: str) -> str:
    if block.startswith("mid_block"):
        return "mid_block.attentions.0"
    kind, _, i, _, j = block.split("_")
    return f"{kind}_blocks.{i}.attentions.{j}"


def _pair(out: dict[str, Any], name: str, fan_in: int, fan_out: int, rank: int, alpha: float,
          gen: Any, scale: float) -> None:
    import torch

    out[f"{name}.lora_down.weight"] = (torch.randn(rank, fan_in, generator=gen) * scale).half()
    out[f"{name}.lora_up.weight"] = (torch.randn(fan_out, rank, generator=gen) * scale).half()
    out[f"{name}.alpha"] = torch.tensor(alpha).half()


def write_tiny_lora(path: Path, **kwargs: Any) -> Path:
    """Write ``lora_tensors(**kwargs)`` as a kohya LoRA file with a little training metadata."""
    return write_checkpoint(path, lora_tensors(**kwargs), {"ss_network_module": "networks.lora"})


def write_diffusers_lora(path: Path, rank: int = 4, seed: int = 5) -> Path:
    """A LoRA in diffusers/PEFT naming (``unet.<module>.lora_A.weight``)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = {}
    for block in ("down_blocks.0.attentions.0", "up_blocks.1.attentions.2"):
        for proj in ("attn1.to_q", "attn1.to_v", "attn2.to_out.0"):
            key = f"unet.{block}.transformer_blocks.0.{proj}"
            out[f"{key}.lora_A.weight"] = torch.randn(rank, 32, generator=gen) * 0.5
            out[f"{key}.lora_B.weight"] = torch.randn(32, rank, generator=gen) * 0.5
    return write_checkpoint(path, out)


def write_ckpt(path: Path, variant: str = "sd1", payload: Any = None) -> Path:
    """The tiny checkpoint as a torch .ckpt (``{"state_dict": ...}``), optionally with a pickled object."""
    import torch

    obj: dict[str, Any] = {"state_dict": {k: v.clone() for k, v in _state(variant, 0).items()},
                           "maple.config": VARIANTS[variant]}
    if payload is not None:
        obj["callbacks"] = payload
    torch.save(obj, str(path))
    return path


def write_header_only(path: Path, tensors: dict[str, list[int]], metadata: dict[str, str] | None = None,
                      dtype: str = "F16") -> Path:
    """A safetensors file whose header lists ``tensors`` (names and shapes) with zero bytes of data.

    The file is sparse (seek past the end): a full-size SD1.5 fake costs no disk or time.
    """
    size = {"F16": 2, "F32": 4}[dtype]
    header: dict[str, Any] = {}
    offset = 0
    for name, shape in tensors.items():
        n = size
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        if offset:
            fh.seek(offset - 1, 1)
            fh.write(b"\0")
    return path


def tiny_config_names() -> list[str]:
    return sorted(TINY_CONFIGS)


def kohya_lora_for(variant: str, rank: int = 4, seed: int = 13, ldm_names: bool = False,
                   scale: float = 0.5) -> dict[str, Any]:
    """A kohya LoRA over every attention projection of a tiny ``variant`` model and its text encoders.

    SDXL files use ``lora_te1_``/``lora_te2_``; ``ldm_names`` writes UNet blocks as LDM names.
    """
    import torch

    from engine.models.configs import read_json
    from engine.models.ldm_keys import _unet_blocks

    folder = config_dir(VARIANTS[variant])
    gen = torch.Generator().manual_seed(seed)
    blocks = sorted(_unet_blocks(read_json(folder / "unet" / "config.json")), key=lambda p: -len(p[0]))
    out: dict[str, Any] = {}
    unet = instantiate(folder, "unet", device="meta").state_dict()
    for key, w in unet.items():
        if ".attn" not in key or not key.endswith(("to_q.weight", "to_k.weight", "to_v.weight", "to_out.0.weight")):
            continue
        module = key.removesuffix(".weight")
        if ldm_names:
            hf, ldm = next(p for p in blocks if module.startswith(p[0]))
            module = ldm + module[len(hf):]
        _pair(out, "lora_unet_" + module.replace(".", "_"), w.shape[1], w.shape[0], rank, 4.0, gen, scale)
    encoders = [n for n in ("text_encoder", "text_encoder_2") if (folder / n).is_dir()]
    for i, name in enumerate(encoders):
        prefix = "lora_te" if len(encoders) == 1 else f"lora_te{i + 1}"
        te = instantiate(folder, name, device="meta").state_dict()
        for key, w in te.items():
            if key.endswith(("q_proj.weight", "v_proj.weight", "out_proj.weight")):
                module = key.removeprefix("text_model.").removesuffix(".weight")
                _pair(out, f"{prefix}_text_model_" + module.replace(".", "_"), w.shape[1], w.shape[0], rank, 4.0,
                      gen, scale)
    return out


def refuse_sockets(monkeypatch: Any) -> list[str]:
    """Make every socket connection and name lookup fail; returns the list of attempts seen."""
    import socket

    attempts: list[str] = []

    def refuse(*args: Any, **_kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise OSError("network access refused by the test")

    for obj, name in ((socket.socket, "connect"), (socket.socket, "connect_ex"), (socket, "getaddrinfo"),
                      (socket, "create_connection")):
        monkeypatch.setattr(obj, name, refuse)
    return attempts
