"""Tiny random-weight SD1-shaped diffusers pipelines for generation tests (CPU, fractions of a second).

UNet blocks (32, 64), cross-attention 32, a 5-layer CLIP text model, a 2-block VAE (scale factor 2,
so a 64x64 image has 32x32 latents) and a real CLIP BPE tokenizer with a small vocabulary: every
byte, every byte with ``</w>`` and a handful of merges, so any text tokenizes. Fixed seeds make
the weights the same in every run. The stock SD1.5 scheduler config ("leading" spacing).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.models.loaded import LoadedModel

SD15_SCHEDULER = {
    "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True,
    "steps_offset": 1, "clip_sample": False, "prediction_type": "epsilon",
}
MERGES = ["c a", "ca t</w>", "d o", "do g</w>", "p h", "ph o", "pho t", "phot o</w>", "o f</w>",
          "r e", "re d</w>"]


def _bytes_to_unicode() -> list[str]:
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = [], 0
    for byte in range(256):
        if byte in printable:
            chars.append(chr(byte))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


def write_tokenizer(folder: Path) -> Path:
    """A real CLIPTokenizer's files with a small vocabulary."""
    folder.mkdir(parents=True, exist_ok=True)
    base = _bytes_to_unicode()
    vocab = base + [c + "</w>" for c in base] + ["".join(m.split()) for m in MERGES]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(MERGES) + "\n")
    return folder


def tokenizer(folder: Path) -> Any:
    from transformers import CLIPTokenizer

    write_tokenizer(folder)
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                         pad_token="<|endoftext|>", model_max_length=77)


def _unet(in_channels: int = 4) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=in_channels,
        out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
        norm_num_groups=32,
    )


def _vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[32, 64], in_channels=3, out_channels=3, latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
        norm_num_groups=32,
    )


def _text_encoder(vocab_size: int, eos: int) -> Any:
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=5,
        vocab_size=vocab_size, max_position_embeddings=77, bos_token_id=eos - 1,
        eos_token_id=eos, pad_token_id=eos, layer_norm_eps=1e-5,
    )
    model = CLIPTextModel(config)
    with torch.no_grad():  # real CLIP embeddings have a clearly non-zero mean; A1111's weighting relies on it
        model.final_layer_norm.bias.uniform_(0.2, 0.8)
    return model


def build_pipe(folder: Path, in_channels: int = 4) -> Any:
    """A StableDiffusionPipeline (9 UNet input channels makes an inpainting-shaped one)."""
    import torch
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    torch.manual_seed(0)
    tok = tokenizer(folder / "tokenizer")
    pipe = StableDiffusionPipeline(
        vae=_vae(), text_encoder=_text_encoder(len(tok), tok.eos_token_id), tokenizer=tok,
        unet=_unet(in_channels), scheduler=PNDMScheduler.from_config(SD15_SCHEDULER),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def loaded(folder: Path, in_channels: int = 4) -> LoadedModel:
    """The tiny pipeline wrapped as the worker sees a loaded model."""
    import torch

    pipe = build_pipe(folder, in_channels)
    arch = "sd1-inpaint" if in_channels == 9 else "sd1"
    return LoadedModel(pipe=pipe, arch=arch, name="tiny.safetensors", path=folder / "tiny.safetensors",
                       sha256="0123456789abcdef" * 4, device=torch.device("cpu"), dtype=torch.float32)


@lru_cache(maxsize=2)
def shared_model(in_channels: int = 4) -> LoadedModel:
    """One tiny model per test session (building takes about a second on two cores).

    Torch is held to one thread: with models this small, threads cost more than they give, and
    on a shared two-core machine they made these tests ten times slower.
    """
    import tempfile

    import torch

    torch.set_num_threads(1)

    return loaded(Path(tempfile.mkdtemp(prefix="maple-tiny-")), in_channels)
