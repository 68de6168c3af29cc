"""Variation seeds and seed resize: A1111's slerp of two noises, its seeds, its noise placement, and
what the pictures and infotexts show."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.generation import infotext
from engine.generation.generate import generate
from engine.generation.variation import Variation, cpu_noise, job_seeds, place, slerp
from engine.jobs import GenParams
from tests.engine.test_generate import Control
from tests.engine.tinypipe import shared_model

BASE = GenParams(prompt="a cat", steps=3, width=64, height=64, seed=5, sampler_name="Euler")


def pixels(result, i: int = 0) -> np.ndarray:
    return np.asarray(result.images[i]).astype(int)


def reference_slerp(value: float, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A1111's formula written out in numpy, one (channel, column) vector along the height at a time."""
    out = np.empty_like(low)
    for c in range(low.shape[0]):
        for x in range(low.shape[2]):
            a, b = low[c, :, x].astype(np.float64), high[c, :, x].astype(np.float64)
            omega = np.arccos(np.dot(a / np.linalg.norm(a), b / np.linalg.norm(b)))
            out[c, :, x] = (np.sin((1 - value) * omega) * a + np.sin(value * omega) * b) / np.sin(omega)
    return out


def test_slerp_follows_a1111s_column_by_column_formula() -> None:
    low, high = cpu_noise(1, (4, 8, 6)), cpu_noise(2, (4, 8, 6))
    for value in (0.0, 0.25, 0.5, 1.0):
        assert np.allclose(slerp(value, low, high).numpy(), reference_slerp(value, low.numpy(), high.numpy()), atol=1e-5)
    assert torch.allclose(slerp(0.0, low, high), low, atol=1e-6) and torch.allclose(slerp(1.0, low, high), high, atol=1e-5)
    assert torch.allclose(slerp(0.3, low, low), low)  # parallel noises: the straight blend, no division by zero


def test_noise_drawn_at_another_size_is_placed_in_the_middle() -> None:
    full = torch.zeros(1, 6, 8)
    placed = place(torch.ones(1, 2, 4), full.clone())
    assert placed[0].nonzero().tolist() == [[y, x] for y in (2, 3) for x in (2, 3, 4, 5)]
    big = torch.arange(1 * 8 * 11, dtype=torch.float32).reshape(1, 8, 11)
    cut = place(big, torch.full((1, 4, 8), -1.0))
    # larger: cut evenly, as A1111 cuts it (dx = (8 - 11) // 2 = -2 -> columns 2..8 of the big noise)
    assert torch.equal(cut[0, :, :7], big[0, 2:6, 2:9]) and bool((cut[0, :, 7] == -1).all())


def test_seed_resize_draws_the_seeds_noise_at_that_size() -> None:
    drawn = cpu_noise(5, (1, 4, 8, 8))
    varied = Variation((9,), 0.0, (32, 48), scale=8).noise(drawn, [5])
    small = cpu_noise(5, (4, 6, 4))
    assert torch.equal(varied[0, :, 1:7, 2:6], small)  # 48x32 pixels = 6x4 latents, centred in 8x8
    assert torch.equal(varied[0, :, 0], drawn[0, :, 0])  # outside it: the image's own noise
    same_size = Variation((9,), 0.0, (64, 64), scale=8).noise(drawn, [5])
    assert torch.equal(same_size, drawn)


def test_a_batch_of_variations_keeps_the_seed_and_counts_the_variation_seed_up() -> None:
    params = replace(BASE, batch_size=2, n_iter=2, subseed=40, subseed_strength=0.3)
    assert job_seeds(params, 5, 1) == [5, 5]
    assert job_seeds(replace(params, subseed_strength=0.0), 5, 1) == [7, 8]
    result = generate(shared_model(), params, Control())
    assert result.seeds == [5, 5, 5, 5] and result.subseeds == [40, 41, 42, 43]
    assert len({pixels(result, i).tobytes() for i in range(4)}) == 4
    assert "Seed: 5, Size: 64x64" in result.infotexts[3]
    assert "Variation seed: 43, Variation seed strength: 0.3," in result.infotexts[3]


def test_strength_one_gives_the_variation_seeds_picture_and_zero_the_seeds() -> None:
    model = shared_model()
    plain = generate(model, BASE, Control())
    other = generate(model, replace(BASE, seed=9), Control())
    full = generate(model, replace(BASE, subseed=9, subseed_strength=1.0), Control())
    none = generate(model, replace(BASE, subseed=9, subseed_strength=0.0), Control())
    some = generate(model, replace(BASE, subseed=9, subseed_strength=0.2), Control())
    assert np.abs(pixels(full) - pixels(other)).max() <= 1  # the variation seed's noise, exactly
    assert np.array_equal(pixels(none), pixels(plain)) and "Variation" not in none.infotexts[0]
    near, far = np.abs(pixels(some) - pixels(plain)).mean(), np.abs(pixels(some) - pixels(other)).mean()
    assert 0 < near < far  # a small step away from the seed's picture


def test_seed_resize_keeps_a_picture_made_at_one_size_recognisable_at_another() -> None:
    model = shared_model()
    same = generate(model, replace(BASE, seed_resize_from_w=64, seed_resize_from_h=64), Control())
    assert np.array_equal(pixels(same), pixels(generate(model, BASE, Control())))
    wide = generate(model, replace(BASE, width=96, seed_resize_from_w=64, seed_resize_from_h=64), Control())
    assert "Seed resize from: 64x64" in wide.infotexts[0]
    unresized = generate(model, replace(BASE, width=96), Control())
    small = pixels(generate(model, BASE, Control()))
    middle = lambda result: pixels(result)[:, 16:80]  # noqa: E731 - the 64 px the small picture's noise went to
    assert np.abs(middle(wide) - small).mean() < np.abs(middle(unresized) - small).mean()


def test_img2img_uses_the_variation_too() -> None:
    from PIL import Image

    init = Image.new("RGB", (64, 64), (180, 60, 40))
    img2img = replace(BASE, mode="img2img", init_images=(init,), denoising_strength=0.8)
    model = shared_model()
    plain = generate(model, img2img, Control())
    varied = generate(model, replace(img2img, subseed=3, subseed_strength=0.7), Control())
    assert not np.array_equal(pixels(plain), pixels(varied))
    assert np.array_equal(pixels(plain), pixels(generate(model, replace(img2img, subseed=3), Control())))


@pytest.mark.parametrize("text", [
    "a cat\nSteps: 3, Sampler: Euler, Seed: 5, Size: 64x64, Variation seed: 9, Variation seed strength: 0.25, "
    "Seed resize from: 512x768, Tiling: True, Version: v1.10.1",
])
def test_the_infotext_is_read_back(text: str) -> None:
    parsed = infotext.parse(text)
    assert parsed["Variation seed"] == "9" and parsed["Variation seed strength"] == "0.25"
    assert (parsed["Seed resize from-1"], parsed["Seed resize from-2"]) == ("512", "768")
    assert parsed["Tiling"] == "True"
