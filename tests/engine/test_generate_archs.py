"""generate() on tiny real checkpoints of each architecture, loaded by the engine's own loader."""

from __future__ import annotations

import copy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from engine.generation.generate import generate
from engine.generation.steps import decode
from engine.jobs import GenParams
from engine.prompts.embeds import encode_pair
from tests.engine.test_generate import Control
from tests.engine.tinypipe import shared_model

_LOADED: dict[str, object] = {}


def model(variant: str, tmp_path_factory: pytest.TempPathFactory):
    if variant not in _LOADED:
        torch.set_num_threads(1)  # tiny models: threads only add overhead (see tinypipe.shared_model)
        from engine.models.loader import load_checkpoint
        from tests.engine.tinymodels import write_tiny_checkpoint

        folder = tmp_path_factory.mktemp(variant)
        _LOADED[variant] = load_checkpoint(write_tiny_checkpoint(folder / f"{variant}.safetensors", variant))
    return _LOADED[variant]


@pytest.mark.filterwarnings("error::RuntimeWarning")  # NaN pixels warn when cast to uint8
@pytest.mark.parametrize("variant", ["sd2", "sdxl", "sd1-inpaint"])
def test_txt2img_hires_and_inpaint(variant: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model(variant, tmp_path_factory)
    control = Control()
    params = GenParams(prompt="a (cat:1.2) BREAK a dog", steps=3, width=64, height=64, seed=1,
                       enable_hr=True, hr_scale=1.5, denoising_strength=0.5)
    result = generate(m, params, control)
    assert result.images[0].size == (96, 96) and control.steps[-1] == (0, 6, 6)
    again = generate(m, params, Control())
    assert np.array_equal(np.asarray(result.images[0]), np.asarray(again.images[0]))
    original = Image.new("RGB", (64, 64), (200, 40, 40))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    inpainted = generate(m, GenParams(mode="img2img", prompt="a cat", steps=3, width=64, height=64, seed=2,
                                      init_images=(original,), mask=mask, mask_blur=0), Control())
    out = np.asarray(inpainted.images[0])
    assert np.array_equal(out[:, 32:], np.asarray(original)[:, 32:])
    plain = generate(m, GenParams(mode="img2img", prompt="a cat", steps=3, width=64, height=64, seed=2,
                                  init_images=(original,), denoising_strength=0.6), Control())
    assert plain.images[0].size == (64, 64)
    for image in (result.images[0], inpainted.images[0], plain.images[0]):
        assert np.asarray(image).std() > 1  # NaN latents come out as flat black


def test_sdxl_conditioning_uses_both_encoders_and_zeros_for_an_empty_negative(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    pipe = model("sdxl", tmp_path_factory).pipe
    cond, uncond = encode_pair(pipe, "a cat", "")
    width = pipe.text_encoder.config.hidden_size + pipe.text_encoder_2.config.hidden_size
    assert cond.embeds.shape == (1, 77, width)
    assert cond.pooled.shape == (1, pipe.text_encoder_2.config.projection_dim)
    assert not uncond.embeds.any() and not uncond.pooled.any()
    edited = generate(model("sdxl", tmp_path_factory), GenParams(prompt="a [cat:dog:1]", steps=3, width=64,
                                                                 height=64, seed=3), Control())
    plain = generate(model("sdxl", tmp_path_factory), GenParams(prompt="a cat", steps=3, width=64,
                                                                height=64, seed=3), Control())
    assert not np.array_equal(np.asarray(edited.images[0]), np.asarray(plain.images[0]))
    theirs = pipe.encode_prompt("a cat", device="cpu", num_images_per_prompt=1,
                                do_classifier_free_guidance=False)
    assert torch.allclose(cond.embeds, theirs[0], atol=1e-5)
    assert torch.allclose(cond.pooled, theirs[2], atol=1e-5)


def test_nan_from_a_half_precision_vae_is_decoded_again_in_fp32() -> None:
    pipe = shared_model().pipe
    vae = copy.deepcopy(pipe.vae)
    with torch.no_grad():
        vae.decoder.conv_in.weight.mul_(3e4)  # overflows fp16, fine in fp32
    vae.to(torch.float16)
    fake = SimpleNamespace(vae=vae, image_processor=pipe.image_processor)
    images = decode(fake, torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0)))
    assert vae.dtype == torch.float32
    assert images[0].size == (16, 16) and np.asarray(images[0]).std() > 0


def test_the_loaded_pipes_are_the_ones_reused(tmp_path: Path) -> None:
    from engine.generation.pipes import pipes_for

    m = shared_model()
    assert pipes_for(m).txt2img is m.pipe and pipes_for(m).img2img().unet is m.pipe.unet


def test_derived_pipelines_keep_each_modules_precision(tmp_path: Path) -> None:
    from engine.generation.pipes import pipes_for
    from tests.engine.tinypipe import loaded

    m = loaded(tmp_path)
    m.pipe.unet.to(torch.float16)
    m.pipe.text_encoder.to(torch.float16)  # the VAE stays fp32, as after a NaN rescue
    pipes = pipes_for(m)
    for derived in (pipes.img2img(), pipes.inpaint()):
        assert derived.unet is m.pipe.unet and derived.vae is m.pipe.vae
    assert m.pipe.unet.dtype == m.pipe.text_encoder.dtype == torch.float16
    assert m.pipe.vae.dtype == torch.float32


def test_half_precision_unet_with_a_full_precision_vae(tmp_path: Path) -> None:
    """After a NaN rescue the VAE is fp32 while the UNet stays fp16: every path must still run."""
    from tests.engine.tinypipe import loaded

    torch.set_num_threads(1)
    m = loaded(tmp_path)
    m.pipe.unet.to(torch.float16)
    m.pipe.text_encoder.to(torch.float16)
    m.dtype = torch.float16
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (0, 0, 16, 32))
    base = {"prompt": "a cat", "steps": 2, "width": 32, "height": 32, "seed": 1}
    jobs = [GenParams(**base, enable_hr=True, hr_scale=1.5, hr_upscaler="Lanczos", denoising_strength=0.5),
            GenParams(**base, mode="img2img", init_images=(Image.new("RGB", (32, 32), "red"),), mask=mask,
                      inpainting_fill=2, denoising_strength=1.0)]
    for params in jobs:
        assert generate(m, params, Control()).images[0].size[0] in (32, 48)
