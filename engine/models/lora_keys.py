"""LoRA key names: kohya files that use LDM block names, remapped to diffusers block names.

Many kohya LoRAs name UNet layers as the original model does (``lora_unet_input_blocks_4_1_...``);
diffusers expects ``lora_unet_down_blocks_1_attentions_0_...`` and, on SD1, raises
``NoMatchingPeftModuleError`` otherwise. The mapping comes from the model's own UNet config, so it
holds for SD1, SD2 and SDXL alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.models.ldm_keys import RESNET_UNET, UNET_TOP, _unet_blocks

KOHYA_UNET = "lora_unet_"
LDM_MARKERS = ("input_blocks_", "middle_block_", "output_blocks_", "time_embed_", "label_emb_", "out_0", "out_2")


def _underscored(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(LDM, diffusers) prefixes with ``_`` for ``.``, longest LDM first."""
    flipped = [(ldm.replace(".", "_"), hf.replace(".", "_")) for hf, ldm in pairs]
    return sorted(flipped, key=lambda p: -len(p[0]))


def ldm_to_diffusers_map(unet_config: Mapping[str, Any]) -> list[tuple[str, str]]:
    return _underscored(_unet_blocks(unet_config) + UNET_TOP)


RESNET_INNER = sorted(((ldm.replace(".", "_") + "_", hf + "_") for hf, ldm in RESNET_UNET),
                      key=lambda p: -len(p[0]))


def _remap_module(module: str, table: list[tuple[str, str]]) -> str:
    padded = module + "_"  # so a whole module name ("time_embed_0") matches its prefix too
    for ldm, hf in table:
        if padded.startswith(ldm):
            rest = padded[len(ldm):]
            if hf.endswith(("resnets_0_", "resnets_1_", "resnets_2_")) or "_resnets_" in hf:
                for old, new in RESNET_INNER:
                    if rest.startswith(old):
                        rest = new + rest[len(old):]
                        break
            return (hf + rest)[:-1]
    return module


def uses_ldm_names(state: Mapping[str, Any]) -> bool:
    return any(k.startswith(KOHYA_UNET) and k[len(KOHYA_UNET):].startswith(LDM_MARKERS) for k in state)


def remap_ldm_lora(state: Mapping[str, Any], unet_config: Mapping[str, Any]) -> dict[str, Any]:
    """Rename ``lora_unet_<LDM block>_...`` keys to diffusers block names; others unchanged."""
    table = ldm_to_diffusers_map(unet_config)
    out: dict[str, Any] = {}
    for key, value in state.items():
        if not key.startswith(KOHYA_UNET):
            out[key] = value
            continue
        module, dot, tail = key[len(KOHYA_UNET):].partition(".")
        out[KOHYA_UNET + _remap_module(module, table) + dot + tail] = value
    return out


_TE_ATTN = re.compile(r"^(lora_te\d?_text_model_encoder_layers_\d+_self_attn_)([qkv])_proj$")


def complete_te_attention(state: Mapping[str, Any]) -> dict[str, Any]:
    """Give text-encoder attention blocks without an ``out_proj`` LoRA a zero one.

    diffusers picks the key layout of a converted kohya file by looking for ``to_out_lora``; a
    file that trains only q/k/v in the text encoder would otherwise lose those layers silently.
    A zero ``lora_up`` adds nothing to the output.
    """
    out = dict(state)
    seen: dict[str, str] = {}
    for key in state:
        module = key.partition(".")[0]
        match = _TE_ATTN.match(module)
        if match:
            seen.setdefault(match.group(1), module)
    for prefix, source in seen.items():
        target = prefix + "out_proj"
        if f"{target}.lora_down.weight" in state:
            continue
        down, up = state[f"{source}.lora_down.weight"], state[f"{source}.lora_up.weight"]
        out[f"{target}.lora_down.weight"] = down.new_zeros(down.shape)
        out[f"{target}.lora_up.weight"] = up.new_zeros(up.shape)
        if f"{source}.alpha" in state:
            out[f"{target}.alpha"] = state[f"{source}.alpha"].clone()
    return out
