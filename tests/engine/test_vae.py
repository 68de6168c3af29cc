"""VAE choice on a real tiny model: a swap changes the decode, Automatic restores it, NaN retried."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.models.errors import VaeError
from engine.models.loader import load_checkpoint
from engine.models.vae import apply_vae, decode_latents_safely
from tests.engine.tinymodels import write_tiny_checkpoint, write_tiny_vae


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vae")
    return load_checkpoint(write_tiny_checkpoint(folder / "base.safetensors", "sd1"))


def latents():
    import torch

    return torch.randn((1, 4, 8, 8), generator=torch.Generator().manual_seed(2))


def test_swap_changes_the_decode_and_automatic_restores_it(model, tmp_path: Path) -> None:
    import torch

    own = decode_latents_safely(model, latents())
    assert own.shape == (1, 3, 64, 64)
    vae_file = write_tiny_vae(tmp_path / "other-vae.safetensors")
    apply_vae(model, vae_file)
    swapped = decode_latents_safely(model, latents())
    assert model.vae_name == "other-vae.safetensors" and len(model.vae_sha256 or "") == 64
    assert not torch.equal(own, swapped)
    apply_vae(model, "Automatic")
    assert torch.equal(decode_latents_safely(model, latents()), own)
    assert model.vae_name == "Automatic" and model.base_vae is None


def test_a1111_prefixed_vae_file_gives_the_same_decode(model, tmp_path: Path) -> None:
    import torch

    apply_vae(model, write_tiny_vae(tmp_path / "plain.safetensors"))
    plain = decode_latents_safely(model, latents())
    apply_vae(model, write_tiny_vae(tmp_path / "prefixed.safetensors", prefix="first_stage_model."))
    assert torch.equal(decode_latents_safely(model, latents()), plain)
    apply_vae(model, None)


def test_broken_vae_is_an_error_and_the_vae_in_use_stays(model, tmp_path: Path) -> None:
    import torch

    own = decode_latents_safely(model, latents())
    broken = tmp_path / "cut.safetensors"
    broken.write_bytes(write_tiny_vae(tmp_path / "full.safetensors").read_bytes()[:4000])
    with pytest.raises(VaeError) as err:
        apply_vae(model, broken)
    assert err.value.code == "vae" and err.value.hint
    with pytest.raises(VaeError, match="not found"):
        apply_vae(model, tmp_path / "missing.safetensors")
    assert model.vae_name == "Automatic"
    assert torch.equal(decode_latents_safely(model, latents()), own)


def test_fp16_nan_is_decoded_again_in_fp32(tmp_path: Path) -> None:
    import torch

    model = load_checkpoint(write_tiny_checkpoint(tmp_path / "half.safetensors", "sd1"), dtype="fp16")
    vae = model.pipe.vae
    assert vae.dtype == torch.float16
    with torch.no_grad():
        vae.decoder.conv_in.weight.mul_(3e4)  # overflows fp16 (inf, then NaN in the norms); fine in fp32
    images = decode_latents_safely(model, latents())
    assert not torch.isnan(images).any()
    assert model.pipe.vae.dtype == torch.float32


def test_pt_vae_loads_and_a_pickled_one_is_refused(model, tmp_path: Path) -> None:
    import os

    import torch
    from safetensors.torch import load_file

    source = write_tiny_vae(tmp_path / "plain.safetensors")
    apply_vae(model, source)
    expected = decode_latents_safely(model, latents())
    tensors = load_file(str(source))
    torch.save({"state_dict": tensors}, str(tmp_path / "old-vae.pt"))
    apply_vae(model, tmp_path / "old-vae.pt")
    assert torch.equal(decode_latents_safely(model, latents()), expected)

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(tmp_path / "ran"),))

    torch.save({"state_dict": tensors, "extra": Payload()}, str(tmp_path / "evil.pt"))
    with pytest.raises(VaeError):
        apply_vae(model, tmp_path / "evil.pt")
    assert not (tmp_path / "ran").exists()
    apply_vae(model, "Automatic")
