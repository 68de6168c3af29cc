"""The cheap latent preview: the right matrix, the latents' size, fast."""

from __future__ import annotations

import time

import torch

from engine.generation.preview import SD1_MATRIX, SDXL_MATRIX, latents_to_image


def test_each_channel_maps_through_the_matrix() -> None:
    latents = torch.zeros(2, 4, 8, 12)
    latents[0, 3] = 1.0  # channel 3 alone: (-0.184, -0.271, -0.473) -> darker than grey
    image = latents_to_image(latents, "sd1")
    assert image.size == (12, 8)
    expected = tuple(round((1 + c) * 127.5) for c in SD1_MATRIX[3])
    assert all(abs(a - b) <= 1 for a, b in zip(image.getpixel((0, 0)), expected, strict=True))
    assert latents_to_image(latents, "sd1", index=1).getpixel((5, 5)) == (127, 127, 127)


def test_sdxl_has_its_own_matrix() -> None:
    latents = torch.zeros(1, 4, 4, 4)
    latents[0, 0] = 1.0
    sd1, sdxl = latents_to_image(latents, "sd1"), latents_to_image(latents, "sdxl")
    assert sd1.getpixel((0, 0)) != sdxl.getpixel((0, 0))
    assert abs(sdxl.getpixel((0, 0))[0] - round((1 + SDXL_MATRIX[0][0]) * 127.5)) <= 1


def test_values_are_clamped_and_it_is_cheap() -> None:
    latents = torch.full((1, 4, 64, 64), 50.0, dtype=torch.float16)
    started = time.perf_counter()
    for _ in range(10):
        image = latents_to_image(latents)
    assert (time.perf_counter() - started) / 10 < 0.05
    assert all(0 <= v <= 255 for v in image.getpixel((3, 3)))
