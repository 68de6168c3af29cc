"""The safetensors header reader: models are classified, broken files are named as broken."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from installer.errors import BrokenModelError
from installer.store.hashing import sha256_file
from installer.store.modelfile import inspect
from tests.installer.st_files import write_st


@pytest.mark.parametrize(
    ("tensors", "kind", "arch"),
    [
        ({"model.diffusion_model.input_blocks.0.0.weight": [320, 4, 3, 3],
          "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [320, 768]}, "checkpoint", "sd1"),
        ({"model.diffusion_model.input_blocks.0.0.weight": [320, 9, 3, 3]}, "checkpoint", "sd1-inpaint"),
        ({"model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [320, 1024]}, "checkpoint", "sd2"),
        ({"model.diffusion_model.input_blocks.0.0.weight": [320, 4, 3, 3],
          "conditioner.embedders.1.model.ln_final.weight": [1280]}, "checkpoint", "sdxl"),
        ({"model.diffusion_model.input_blocks.0.0.weight": [384, 4, 3, 3],
          "conditioner.embedders.0.model.ln_final.weight": [1280]}, "checkpoint", "sdxl-refiner"),
        ({"encoder.conv_in.weight": [128, 3, 3, 3], "decoder.conv_out.weight": [3, 128, 3, 3]}, "vae", "unknown"),
        ({"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": [4, 320],
          "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight": [3072, 4]}, "lora", "sd1"),
        ({"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight": [5120, 4]}, "lora", "sdxl"),
        ({"encoder.layers.0.weight": [64, 3, 3, 3]}, "taesd", "unknown"),
    ],
)
def test_classify(tmp_path: Path, tensors, kind, arch) -> None:
    _, k, a = inspect(write_st(tmp_path / "m.safetensors", tensors))
    assert (k, a) == (kind, arch)


def test_truncated_file_is_broken(tmp_path: Path) -> None:
    p = write_st(tmp_path / "m.safetensors", {"encoder.conv_in.weight": [128, 3, 3, 3]})
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(BrokenModelError, match="truncated"):
        inspect(p)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Not found</body></html>", "HTML"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 4265146304\n", "git-LFS"),
        (b"\x05\x00", "empty or truncated"),
        (b"\xff" * 64, "too large"),
        (struct.pack("<Q", 5) + b"nope!", "damaged header"),
    ],
)
def test_fake_files_are_broken(tmp_path: Path, content: bytes, reason: str) -> None:
    p = tmp_path / "model.safetensors"
    p.write_bytes(content)
    with pytest.raises(BrokenModelError, match=reason):
        inspect(p)


def test_sha256_matches_hashlib(tmp_path: Path) -> None:
    import hashlib

    p = tmp_path / "f.bin"
    p.write_bytes(b"maple" * 1_000_000)
    seen: list[int] = []
    assert sha256_file(p, progress=lambda d, t: seen.append(d)) == hashlib.sha256(p.read_bytes()).hexdigest()
    assert seen[-1] == p.stat().st_size
