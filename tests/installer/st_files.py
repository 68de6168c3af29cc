"""Real (tiny) safetensors files in the shapes the store meets: checkpoints, VAEs, LoRAs."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

SD1_CHECKPOINT = {
    "model.diffusion_model.input_blocks.0.0.weight": [32, 4, 3, 3],
    "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [32, 768],
}
SDXL_CHECKPOINT = {
    "model.diffusion_model.input_blocks.0.0.weight": [32, 4, 3, 3],
    "conditioner.embedders.1.model.ln_final.weight": [1280],
}
VAE = {"encoder.conv_in.weight": [8, 3, 3, 3], "decoder.conv_out.weight": [3, 8, 3, 3]}
LORA = {
    "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": [4, 32],
    "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": [32, 4],
    "lora_unet_down_blocks_0_attentions_0_proj_in.alpha": [],
}
TAESD = {"encoder.layers.0.weight": [8, 3, 3, 3], "decoder.layers.0.weight": [3, 8, 3, 3]}


def write_st(path: Path, tensors: dict[str, list[int]], seed: int = 0, metadata: dict[str, str] | None = None) -> Path:
    """Write a valid safetensors file whose F16 data is deterministic noise from ``seed``."""
    header: dict[str, object] = {}
    offset = 0
    for name, shape in tensors.items():
        n = 2
        for d in shape:
            n *= d
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    data = bytearray()
    counter = 0
    while len(data) < offset:
        data += hashlib.sha256(f"{seed}-{counter}".encode()).digest()
        counter += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(data[:offset]))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tensor_sha256(path: Path) -> str:
    """A1111's LoRA hash input: the bytes after the 8-byte length and the header."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return hashlib.sha256(raw[8 + n:]).hexdigest()


def point_trash_at(folder: Path, monkeypatch) -> Path:
    """Make send2trash's freedesktop trash a folder of the test's own; returns its ``files`` folder."""
    import os

    from send2trash import plat_other

    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(folder))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(folder / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(folder / "Trash"))
    return folder / "Trash" / "files"
