"""Model truth: every family named as it is, SDXL v-prediction / zero-SNR and inpainting run right,
and what Maple cannot run is refused as "not supported yet" instead of being loaded as SD1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine.generation.generate import generate
from engine.generation.samplers import make_scheduler
from engine.jobs import GenParams
from engine.models.errors import UnsupportedModelError
from engine.models.sources import inspect_checkpoint
from installer.home import Home
from installer.store.model_store import ModelStore
from installer.store.modelfile import ARCH_NAMES, inspect
from tests.engine.test_generate import Control
from tests.engine.tinymodels import write_header_only, write_tiny_checkpoint

U = "model.diffusion_model."
SD_UNET = {U + "input_blocks.0.0.weight": [320, 4, 3, 3],
           U + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [320, 768]}
XL = {U + "input_blocks.0.0.weight": [320, 4, 3, 3], "conditioner.embedders.1.model.ln_final.weight": [1280]}
HEADERS = {  # file -> (tensors, kind, arch, the name users see)
    "flux1-dev-fp8.safetensors": ({U + "double_blocks.0.img_attn.norm.key_norm.scale": [128],
                                   U + "guidance_in.in_layer.weight": [3072, 256],
                                   "text_encoders.clip_l.transformer.text_model.final_layer_norm.weight": [768]},
                                  "checkpoint", "flux", "FLUX.1"),
    "flux1-schnell-unet.safetensors": ({"double_blocks.0.img_attn.qkv.weight": [9216, 3072]}, "checkpoint", "flux",
                                       "FLUX.1"),
    "sd3_medium_incl_clips.safetensors": ({U + "joint_blocks.0.context_block.adaLN_modulation.1.bias": [9216]},
                                          "checkpoint", "sd3", "SD3 Medium"),
    "sd3.5_large.safetensors": ({U + "joint_blocks.0.context_block.adaLN_modulation.1.bias": [14592],
                                 U + "joint_blocks.37.x_block.mlp.fc1.weight": [9728, 2432]},
                                "checkpoint", "sd35-large", "SD3.5 Large"),
    "chroma1-hd.safetensors": ({"distilled_guidance_layer.in_proj.bias": [5120],
                                "double_blocks.0.img_attn.qkv.weight": [9216, 3072]}, "checkpoint", "chroma", "Chroma"),
    "z_image_turbo_bf16.safetensors": ({"layers.0.adaLN_modulation.0.weight": [256, 256]}, "checkpoint", "z-image",
                                       "Z-Image"),
    "noobai-xl-vpred.safetensors": ({**XL, "v_pred": [0], "ztsnr": [0]}, "checkpoint", "sdxl-vpred",
                                    "SDXL v-prediction"),
    "sdxl-inpainting.safetensors": ({**XL, U + "input_blocks.0.0.weight": [320, 9, 3, 3]}, "checkpoint",
                                    "sdxl-inpaint", "SDXL inpainting"),
    "sd2-inpainting.safetensors": ({U + "input_blocks.0.0.weight": [320, 9, 3, 3],
                                    U + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [320, 1024]},
                                   "checkpoint", "sd2-inpaint", "SD2.x inpainting"),
    "plain-sd15.safetensors": (SD_UNET, "checkpoint", "sd1", "SD1.x"),
    "loha-style.safetensors": ({"lora_unet_down_blocks_0_attentions_0_proj_in.hada_w1_a": [320, 8],
                                "lora_unet_down_blocks_0_attentions_0_proj_in.alpha": []}, "lora", "sd1", "SD1.x"),
    "lokr-style.safetensors": ({"lora_te_text_model_encoder_layers_0_mlp_fc1.lokr_w1": [8, 8],
                                "lora_te_text_model_encoder_layers_0_mlp_fc1.lokr_w2": [384, 96]},
                               "lora", "sd1", "SD1.x"),
    "flux-lora.safetensors": ({"lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight": [16, 3072]},
                              "lora", "flux", "FLUX.1"),
}


@pytest.mark.parametrize("name", list(HEADERS))
def test_each_family_is_named_truthfully(name: str, tmp_path: Path) -> None:
    tensors, kind, arch, label = HEADERS[name]
    _, got_kind, got_arch = inspect(write_header_only(tmp_path / name, tensors))
    assert (got_kind, got_arch) == (kind, arch)
    assert ARCH_NAMES[got_arch] == label


def test_the_model_manager_lists_them_so(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    home.ensure()
    for name in ("flux1-dev-fp8.safetensors", "sd3_medium_incl_clips.safetensors", "noobai-xl-vpred.safetensors"):
        write_header_only(home.models_dir("checkpoint") / name, HEADERS[name][0])
    lyco = home.root / "models" / "LyCORIS"
    lyco.mkdir(parents=True)
    write_header_only(lyco / "loha-style.safetensors", HEADERS["loha-style.safetensors"][0])
    found = {e.name: (e.kind, e.arch) for e in ModelStore(home).scan()}
    assert found["flux1-dev-fp8.safetensors"] == ("checkpoint", "flux")
    assert found["sd3_medium_incl_clips.safetensors"] == ("checkpoint", "sd3")
    assert found["noobai-xl-vpred.safetensors"] == ("checkpoint", "sdxl-vpred")
    assert found["loha-style.safetensors"] == ("lora", "sd1")  # models/LyCORIS is a LoRA folder


@pytest.mark.parametrize("name", ["flux1-dev-fp8.safetensors", "flux1-schnell-unet.safetensors",
                                  "sd3.5_large.safetensors", "z_image_turbo_bf16.safetensors",
                                  "sd2-inpainting.safetensors"])
def test_the_engine_refuses_what_it_cannot_run_yet(name: str, tmp_path: Path) -> None:
    path = write_header_only(tmp_path / name, HEADERS[name][0])
    with pytest.raises(UnsupportedModelError, match=f"is a {HEADERS[name][3]} model; Maple does not support "
                                                     f"{HEADERS[name][3]} yet") as raised:
        inspect_checkpoint(path)
    assert "SD1.x, SD2.x and SDXL" in raised.value.hint


def _with_markers(path: Path, variant: str, markers: tuple[str, ...]) -> Path:
    from safetensors.torch import load_file, save_file

    write_tiny_checkpoint(path, variant)
    state = load_file(str(path))
    from safetensors import safe_open

    with safe_open(str(path), "pt") as handle:
        metadata = handle.metadata()
    state.update({m: torch.zeros(0) for m in markers})
    save_file(state, str(path), metadata=metadata)
    return path


def test_sdxl_v_prediction_and_zero_snr_markers_set_the_schedule(tmp_path: Path) -> None:
    from engine.generation.pipes import pipes_for
    from engine.models.loader import load_checkpoint

    torch.set_num_threads(1)
    model = load_checkpoint(_with_markers(tmp_path / "vpred.safetensors", "sdxl", ("v_pred", "ztsnr")))
    config = model.pipe.scheduler.config
    assert config.prediction_type == "v_prediction" and config.rescale_betas_zero_snr
    scheduler = make_scheduler("Euler", "Automatic", pipes_for(model).base_config, sdxl=True)
    scheduler.set_timesteps(4)
    assert float(scheduler.sigmas[0]) == pytest.approx(4518.9, rel=1e-3)  # A1111's finite last level
    assert scheduler.config.prediction_type == "v_prediction"
    result = generate(model, GenParams(prompt="a cat", steps=2, width=64, height=64, seed=1), Control())
    assert np.isfinite(np.asarray(result.images[0], dtype=float)).all()
    plain = load_checkpoint(_with_markers(tmp_path / "eps.safetensors", "sdxl", ()))
    assert plain.pipe.scheduler.config.prediction_type == "epsilon"


def test_sdxl_inpainting_checkpoints_run_as_inpainting_models(tmp_path: Path) -> None:
    from engine.models.loader import load_checkpoint

    torch.set_num_threads(1)
    model = load_checkpoint(write_tiny_checkpoint(tmp_path / "xl-inpaint.safetensors", "sdxl-inpaint"))
    assert type(model.pipe).__name__ == "StableDiffusionXLInpaintPipeline" and model.arch == "sdxl-inpaint"
    made = generate(model, GenParams(prompt="a cat", steps=2, width=64, height=64, seed=1), Control())
    assert made.images[0].size == (64, 64)
    original = Image.new("RGB", (64, 64), (200, 40, 40))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    inpainted = generate(model, GenParams(mode="img2img", prompt="a cat", steps=2, width=64, height=64, seed=2,
                                          init_images=(original,), mask=mask, mask_blur=0), Control())
    assert np.array_equal(np.asarray(inpainted.images[0])[:, 32:], np.asarray(original)[:, 32:])
