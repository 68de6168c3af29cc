"""Which model family a checkpoint's tensor names say it is, including the ones Maple cannot run.

Stable Diffusion UNet checkpoints (``model.diffusion_model.input_blocks...``) are told apart by
shapes and a few names: SD2 by its 1024-wide cross-attention, SDXL by its second text encoder,
inpainting models by their 9-channel input, SDXL v-prediction models by the empty ``v_pred``
marker tensor their trainers add (and zero-terminal-SNR ones by ``ztsnr``). The transformer
families of 2024-2026 (FLUX, SD3, ...) are recognised by a tensor name only they have, with or
without the ``model.diffusion_model.`` prefix of all-in-one files, so they are named truthfully
instead of being taken for SD1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

UNET_PREFIX = "model.diffusion_model."
PREFIXES = (UNET_PREFIX, "diffusion_model.", "model.")
V_PRED_KEY, ZTSNR_KEY = "v_pred", "ztsnr"

# id, name users know, tensor names (without prefix) of which any one marks the family; in order
FAMILIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("flux2", "FLUX.2", ("single_stream_modulation.lin.weight",)),
    ("chroma", "Chroma", ("distilled_guidance_layer.in_proj.bias",)),
    ("flux", "FLUX.1", ("double_blocks.0.img_attn.norm.key_norm.scale", "double_blocks.0.img_attn.qkv.weight")),
    ("sd35-large", "SD3.5 Large", ("joint_blocks.37.x_block.mlp.fc1.weight",)),
    ("sd35-medium", "SD3.5 Medium", ("joint_blocks.0.x_block.attn2.qkv.weight",)),
    ("sd3", "SD3 Medium", ("joint_blocks.0.context_block.adaLN_modulation.1.bias",)),
    ("auraflow", "AuraFlow", ("double_layers.0.attn.w2q.weight",)),
    ("hidream", "HiDream-I1", ("double_stream_blocks.0.block.adaLN_modulation.1.bias",)),
    ("qwen-image", "Qwen-Image", ("txt_in.text_norm.weight", "transformer_blocks.0.img_mod.1.weight")),
    ("z-image", "Z-Image", ("layers.0.adaLN_modulation.0.weight",)),
    ("lumina2", "Lumina-Image 2.0", ("cap_embedder.0.weight",)),
    ("hunyuan-video", "HunyuanVideo", ("txt_in.individual_token_refiner.blocks.0.adaLN_modulation.1.bias",)),
    ("wan", "Wan (video)", ("head.modulation",)),
    ("ltx-video", "LTX-Video", ("patchify_proj.weight",)),
    ("mochi", "Mochi (video)", ("blocks.0.attn.qkv_x.weight",)),
    ("sana", "Sana", ("blocks.0.cross_attn.q_linear.weight",)),
    ("pixart", "PixArt", ("t_block.1.weight",)),
    ("hunyuan-dit", "Hunyuan-DiT", ("mlp_t5.0.weight", "text_embedding_padding")),
    ("stable-cascade", "Stable Cascade", ("clip_txt_mapper.weight", "down_blocks.1.0.channelwise.0.weight")),
    ("playground-v2.5", "Playground v2.5", ("edm_mean",)),
)
FAMILY_NAMES = {
    **{family: name for family, name, _ in FAMILIES},
    "sdxl-inpaint": "SDXL inpainting",
    "sdxl-vpred": "SDXL v-prediction",
    "sd2-inpaint": "SD2.x inpainting",
    "sd1-pix2pix": "InstructPix2Pix (SD1.x)",
    "sd-upscaler": "SD x4 upscaler",
}


class HeaderLike(Protocol):
    @property
    def tensors(self) -> Mapping[str, Any]: ...

    def shape(self, key: str) -> list[int] | None: ...


def unprefixed(keys: Iterable[str]) -> set[str]:
    """Every tensor name, and the same with an all-in-one file's model prefix taken off."""
    names = set()
    for key in keys:
        names.add(key)
        for prefix in PREFIXES:
            if key.startswith(prefix):
                names.add(key[len(prefix):])
    return names


def transformer_family(keys: Iterable[str]) -> str | None:
    """The family of a FLUX / SD3 / ... file (all-in-one or transformer only); None for others."""
    names = unprefixed(keys)
    return next((family for family, _, markers in FAMILIES if any(m in names for m in markers)), None)


def unet_arch(header: HeaderLike) -> str:
    """The architecture of a checkpoint with Stable Diffusion UNet tensors (``model.diffusion_model.``)."""
    keys = header.tensors
    channels = (header.shape(UNET_PREFIX + "input_blocks.0.0.weight") or [0, 4])[1]
    if any(k.startswith("conditioner.embedders.1.") for k in keys):
        if channels == 9:
            return "sdxl-inpaint"
        return "sdxl-vpred" if V_PRED_KEY in keys else "sdxl"
    if any(k.startswith("conditioner.embedders.0.") for k in keys):
        return "sdxl-refiner"
    attn = header.shape(UNET_PREFIX + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight") or []
    sd2 = bool(attn) and attn[-1] == 1024
    if channels == 9:
        return "sd2-inpaint" if sd2 else "sd1-inpaint"
    if sd2:
        return "sd2"
    if channels == 8:
        return "sd1-pix2pix"
    if channels == 7 or UNET_PREFIX + "input_blocks.10.0.skip_connection.bias" in keys:
        return "sd-upscaler"
    return "sd1"


def prediction_markers(keys: Iterable[str]) -> tuple[bool, bool]:
    """(v-prediction, zero terminal SNR) from the marker tensors trainers put into such files."""
    present = set(keys)
    return V_PRED_KEY in present, ZTSNR_KEY in present


def lora_family(keys: Iterable[str]) -> str | None:
    """FLUX and SD3 LoRAs (kohya or diffusers names), which SD LoRA checks would call unknown."""
    text = " ".join(keys)
    if "double_blocks" in text or "single_blocks" in text or "single_transformer_blocks" in text:
        return "flux"
    if "joint_blocks" in text or "context_block" in text:
        return "sd3"
    return None
