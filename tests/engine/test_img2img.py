"""img2img, resize modes and inpainting (4- and 9-channel models) on tiny models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from engine.generation.generate import generate
from engine.generation.img2img import fill_masked, resize_image
from engine.jobs import GenParams
from tests.engine.test_generate import Control
from tests.engine.tinypipe import shared_model


def two_halves(size: tuple[int, int] = (32, 32)) -> Image.Image:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (size[0] // 2, 0, size[0], size[1]))
    return image


def left_mask(size: tuple[int, int] = (32, 32)) -> Image.Image:
    mask = Image.new("L", size, 0)
    mask.paste(255, (0, 0, size[0] // 2, size[1]))
    return mask


def img2img(control: Control | None = None, channels: int = 4, **changes: Any):
    base = {"mode": "img2img", "prompt": "a cat", "seed": 7, "steps": 4, "width": 32, "height": 32,
            "init_images": (two_halves(),), "denoising_strength": 0.75, "mask_blur": 0}
    return generate(shared_model(channels), GenParams(**{**base, **changes}), control or Control())


def arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image).astype(np.int16)


def test_resize_modes() -> None:
    wide = two_halves((80, 40))
    assert resize_image(0, wide, 32, 32).size == (32, 32)
    cropped = resize_image(1, wide, 32, 32)  # cover 64x32, keep the middle 32 columns
    assert cropped.size == (32, 32)
    assert cropped.getpixel((2, 16))[0] > 150 and cropped.getpixel((29, 16))[2] > 150
    filled = resize_image(2, Image.new("RGB", (80, 40), (0, 255, 0)), 32, 32)  # fit 32x16, bars stretched
    assert filled.size == (32, 32) and filled.getpixel((16, 1)) == (0, 255, 0)


def test_strength_sets_the_steps_and_the_image_matters() -> None:
    control = Control()
    red = img2img(control, denoising_strength=0.5)
    assert [s for _, s, _ in control.steps] == [1, 2] and "Denoising strength: 0.5" in red.infotexts[0]
    blue = img2img(init_images=(Image.new("RGB", (32, 32), "blue"),), denoising_strength=0.5)
    assert not np.array_equal(arr(red.images[0]), arr(blue.images[0]))
    again = img2img(denoising_strength=0.5)
    assert np.array_equal(arr(red.images[0]), arr(again.images[0]))


@pytest.mark.parametrize("mode", [1, 2, 3])
def test_other_resize_modes_run_at_the_asked_size(mode: int) -> None:
    result = img2img(init_images=(two_halves((48, 24)),), resize_mode=mode, width=32, height=16)
    assert result.images[0].size == (32, 16)


@pytest.mark.parametrize("channels", [4, 9])
def test_inpaint_keeps_the_unmasked_half(channels: int) -> None:
    result = img2img(mask=left_mask(), channels=channels, denoising_strength=1.0)
    out, original = arr(result.images[0]), arr(two_halves())
    assert np.array_equal(out[:, 16:], original[:, 16:])
    assert np.abs(out[:, :16] - original[:, :16]).mean() > 10
    assert "Mask blur: 0" in result.infotexts[0]


def test_inverted_mask_repaints_the_other_half() -> None:
    result = img2img(mask=left_mask(), inpainting_mask_invert=True)
    out, original = arr(result.images[0]), arr(two_halves())
    assert np.array_equal(out[:, :16], original[:, :16])
    assert not np.array_equal(out[:, 16:], original[:, 16:])


def test_masked_content_modes_differ() -> None:
    outs = [arr(img2img(mask=left_mask(), inpainting_fill=fill, denoising_strength=0.5).images[0])
            for fill in range(4)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(outs[i][:, :16], outs[j][:, :16]), (i, j)


def test_fill_paints_the_hole_with_surrounding_colours() -> None:
    filled = fill_masked(two_halves(), left_mask())
    red, blue = filled.getpixel((2, 16)), filled.getpixel((30, 16))
    assert blue == (30, 30, 200)
    assert red[2] > red[0]  # the red half was masked: it now takes the blue around it


def test_mask_blur_softens_the_edge() -> None:
    hard = arr(img2img(mask=left_mask(), mask_blur=0).images[0])
    soft = arr(img2img(mask=left_mask(), mask_blur=4).images[0])
    assert not np.array_equal(hard[:, 16:20], soft[:, 16:20])
    assert np.array_equal(hard[:, 28:], soft[:, 28:])


def test_only_masked_repaints_a_crop_and_keeps_the_original_size() -> None:
    original = Image.new("RGB", (96, 64), (40, 160, 40))
    mask = Image.new("L", (96, 64), 0)
    mask.paste(255, (70, 40, 86, 56))
    result = img2img(init_images=(original,), mask=mask, inpaint_full_res=True, denoising_strength=1.0,
                     width=32, height=32, extra={"inpaint_full_res_padding": 8})
    out, before = arr(result.images[0]), arr(original)
    assert result.images[0].size == (96, 64)
    outside = np.ones((64, 96), bool)
    outside[40:56, 70:86] = False
    assert np.array_equal(out[outside], before[outside])
    assert np.abs(out[40:56, 70:86] - before[40:56, 70:86]).mean() > 10
    assert "Inpaint area: Only masked, Masked area padding: 8" in result.infotexts[0]


def test_only_masked_crop_box_follows_the_aspect_ratio() -> None:
    from engine.generation.only_masked import mask_box, widen

    mask = Image.new("L", (100, 100), 0)
    mask.paste(255, (10, 40, 20, 60))
    box = mask_box(mask, 5)
    assert box == (5, 35, 25, 65)
    assert widen(box, 64, 32, 100, 100) == (0, 35, 60, 65)  # 20x30 -> 60x30, shifted inside
