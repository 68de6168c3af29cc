"""Seamless tiling: with ``tiling`` the picture's left and right edges continue each other, for the
request only."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from engine.generation.generate import generate
from engine.generation.samplers import make_scheduler
from engine.generation.seamless import circular_padding, convolutions
from engine.jobs import GenParams
from tests.engine.test_generate import Control
from tests.engine.tinypipe import shared_model

BASE = GenParams(prompt="a stone wall", steps=3, width=64, height=64, seed=21, sampler_name="Euler")


def draw(pipe, noise) -> torch.Tensor:
    return pipe(prompt="a stone wall", latents=noise, num_inference_steps=3, guidance_scale=5.0,
                output_type="pt").images


@pytest.fixture(scope="module")
def pipe():
    pipe = shared_model().pipe
    pipe.scheduler = make_scheduler("Euler", "Automatic", pipe.scheduler.config)
    return pipe


def test_a_tile_continues_across_its_left_and_right_edges(pipe) -> None:
    # Shifting the starting noise sideways shifts the whole tiled picture by as much, wrapping round:
    # the column pair (last, first) is drawn exactly like any neighbouring pair inside the picture.
    noise = torch.randn(1, 4, 32, 32, generator=torch.Generator().manual_seed(3))
    shift = 4  # latent pixels; the tiny UNet halves the size once, so shifts stay whole
    scale = pipe.vae_scale_factor
    with circular_padding(pipe):
        tile = draw(pipe, noise)
        moved = draw(pipe, torch.roll(noise, shift, dims=3))
    assert torch.allclose(torch.roll(tile, shift * scale, dims=3), moved, atol=1e-4)
    untiled, untiled_moved = draw(pipe, noise), draw(pipe, torch.roll(noise, shift, dims=3))
    assert not torch.allclose(torch.roll(untiled, shift * scale, dims=3), untiled_moved, atol=1e-2)  # edges differ


def test_tiling_is_for_the_request_only(pipe) -> None:
    model = shared_model()
    before = generate(model, BASE, Control())
    tiled = generate(model, replace(BASE, tiling=True), Control())
    after = generate(model, BASE, Control())
    assert "Tiling: True" in tiled.infotexts[0] and "Tiling" not in before.infotexts[0]
    assert tiled.images[0].tobytes() != before.images[0].tobytes()
    assert after.images[0].tobytes() == before.images[0].tobytes()
    assert {layer.padding_mode for layer in convolutions(pipe)} == {"zeros"}
    with pytest.raises(RuntimeError), circular_padding(pipe):
        assert {layer.padding_mode for layer in convolutions(pipe)} == {"circular"}
        raise RuntimeError("a job that fails half way")
    assert {layer.padding_mode for layer in convolutions(pipe)} == {"zeros"}
