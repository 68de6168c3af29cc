"""Tiled VAE: when it tiles (the machine check's rule), and that a tiled decode or encode matches
the whole one closely, without seams, with every tile normalised alike."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine.models import vae_norms, vae_tiling
from engine.models.configs import config_dir
from engine.models.vae import decode as vae_decode
from installer.machine import vae_memory

GIB = 1024**3


def test_the_rule_from_free_memory() -> None:
    assert vae_memory.whole_pixels(8 * GIB, 2) == int(8 * GIB * 0.6 / 2100)  # about 1600x1600 in fp16
    assert vae_memory.whole_pixels(8 * GIB, 2) > 1536 * 1536 > vae_memory.whole_pixels(4 * GIB, 2)
    assert vae_memory.whole_pixels(24 * GIB, 2) > 2048 * 2048  # a 24 GB card decodes 2048x2048 whole
    assert vae_memory.tile_side(None) == vae_memory.CPU_TILE
    assert vae_memory.tile_side(2 * GIB, 2) % 64 == 0 and vae_memory.tile_side(GIB // 4, 2) >= vae_memory.TILE_MIN
    assert vae_memory.tile_side(80 * GIB, 2) == vae_memory.TILE_MAX


@pytest.fixture
def smooth_vae() -> torch.nn.Module:
    """The tiny test VAE with fixed random weights, its mid-block attention off and its output tamed
    (a random attention mixes the whole picture, which no real VAE's does)."""
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    config = json.loads((config_dir("demo") / "vae" / "config.json").read_text())
    vae = AutoencoderKL.from_config(config).eval()
    with torch.no_grad():
        for block in (vae.decoder.mid_block, vae.encoder.mid_block):
            for attention in block.attentions:
                attention.to_out[0].weight.zero_()
                attention.to_out[0].bias.zero_()
        vae.decoder.conv_out.weight.mul_(0.2)
    return vae


def _latents(side: int) -> torch.Tensor:
    noise = torch.randn(1, 4, side, side, generator=torch.Generator().manual_seed(3))
    smooth = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(noise, (4, 4, 4, 4), mode="reflect"), 9, 1)
    return smooth * 0.18215  # as scaled latents come out of the UNet


def _pixels(t: torch.Tensor) -> np.ndarray:
    return ((t[0].clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).numpy()


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vae_memory, "CPU_WHOLE_PIXELS", 128 * 128)
    monkeypatch.setattr(vae_memory, "CPU_TILE", 128)


def test_only_pictures_above_the_limit_are_tiled(smooth_vae) -> None:
    cpu = torch.device("cpu")
    assert vae_tiling.plan(smooth_vae, 1024 * 1024, cpu) is None
    assert vae_tiling.plan(smooth_vae, 2048 * 2048, cpu) == vae_memory.CPU_TILE


@pytest.mark.slow
def test_a_tiled_decode_matches_the_whole_one_without_seams(smooth_vae, small_limits, monkeypatch) -> None:
    monkeypatch.setattr(vae_memory, "CPU_TILE", 256)
    latents = _latents(64)  # a 512x512 picture: 3x3 tiles of 256 with a quarter shared
    with torch.no_grad():
        monkeypatch.setattr(vae_memory, "CPU_WHOLE_PIXELS", 10**9)
        whole = _pixels(vae_decode(smooth_vae, latents))
        monkeypatch.setattr(vae_memory, "CPU_WHOLE_PIXELS", 256 * 256)
        calls = []
        real = smooth_vae.decoder.forward
        monkeypatch.setattr(smooth_vae.decoder, "forward", lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
        tiled = _pixels(vae_decode(smooth_vae, latents))
    assert len(calls) > 4 and max(s[-1] for s in calls[1:]) == 32  # the statistics pass, then 32-latent tiles
    assert not smooth_vae.use_tiling  # put back as it was
    difference = np.abs(whole - tiled)
    assert difference.mean() < 2.5, difference.mean()
    for axis in (0, 1):
        jumps = np.abs(np.diff(tiled, axis=axis)).mean(axis=(1 - axis, 2))
        reference = np.abs(np.diff(whole, axis=axis)).mean(axis=(1 - axis, 2))
        assert (jumps - reference).max() < 3.0


def test_every_tile_is_normalised_with_the_whole_pictures_statistics(smooth_vae) -> None:
    latents = _latents(32)
    with torch.no_grad():
        whole = smooth_vae.decode(latents).sample
        stats: vae_norms.Stats = {}
        with vae_norms.recording(smooth_vae.decoder, stats):
            smooth_vae.decode(latents)
        with vae_norms.using(smooth_vae.decoder, stats):
            again = smooth_vae.decode(latents).sample
        crop = latents[..., :16, :16]
        alone = smooth_vae.decode(crop).sample
        with vae_norms.using(smooth_vae.decoder, stats):
            shared = smooth_vae.decode(crop).sample
    assert torch.allclose(whole, again, atol=1e-5)  # the recorded figures are the picture's own
    assert len(stats) == len([m for m in smooth_vae.decoder.modules() if isinstance(m, torch.nn.GroupNorm)])
    inner = (slice(None), slice(None), slice(32, 96), slice(32, 96))  # away from the crop's edges
    assert (shared - whole[..., :128, :128])[inner].abs().mean() < (alone - whole[..., :128, :128])[inner].abs().mean()


def test_a_tiled_encode_matches_the_whole_one(smooth_vae, small_limits, monkeypatch) -> None:
    with torch.no_grad():
        pixels = (smooth_vae.decode(_latents(32)).sample).clamp(-1, 1)
        monkeypatch.setattr(vae_memory, "CPU_WHOLE_PIXELS", 10**9)
        whole = vae_tiling.encode(smooth_vae, pixels).mean
        monkeypatch.setattr(vae_memory, "CPU_WHOLE_PIXELS", 128 * 128)
        tiled = vae_tiling.encode(smooth_vae, pixels).mean
    assert tiled.shape == whole.shape == (1, 4, 32, 32)
    assert (tiled - whole).abs().mean() < 0.25 * whole.abs().mean()
