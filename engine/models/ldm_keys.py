"""diffusers -> A1111/LDM key names: the inverse of diffusers' single-file converter.

Used to write single-file checkpoints in the layout users' files have (the demo model, the test
models) and to prove that the shipped config folders produce the real checkpoints' tensor names
and shapes (tensors on the meta device work too). torch is imported by the callers, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_PREFIX = {  # where each architecture keeps its text encoders
    "sd1": ("cond_stage_model.transformer.text_model.", None),
    "sd2": (None, "cond_stage_model.model."),
    "sdxl": ("conditioner.embedders.0.transformer.text_model.", "conditioner.embedders.1.model."),
    "sdxl-refiner": (None, "conditioner.embedders.0.model."),
}
RESNET_UNET = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"),
               ("conv2", "out_layers.3"), ("time_emb_proj", "emb_layers.1"),
               ("conv_shortcut", "skip_connection")]
UNET_TOP = [("time_embedding.linear_1.", "time_embed.0."), ("time_embedding.linear_2.", "time_embed.2."),
            ("add_embedding.linear_1.", "label_emb.0.0."), ("add_embedding.linear_2.", "label_emb.0.2."),
            ("conv_in.", "input_blocks.0.0."), ("conv_norm_out.", "out.0."), ("conv_out.", "out.2.")]
VAE_ATTN = [("group_norm.", "norm."), ("to_q.", "q."), ("to_k.", "k."), ("to_v.", "v."),
            ("to_out.0.", "proj_out.")]


def _unet_blocks(cfg: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(diffusers prefix, LDM prefix) for every UNet block the config has."""
    lpb = int(cfg["layers_per_block"])
    n = len(cfg["block_out_channels"])
    pairs = [("mid_block.resnets.0.", "middle_block.0."), ("mid_block.resnets.1.", "middle_block.2.")]
    if cfg.get("mid_block_type") in (None, "UNetMidBlock2DCrossAttn"):
        pairs.append(("mid_block.attentions.0.", "middle_block.1."))
    for i in range(n):
        down_attn = "CrossAttn" in cfg["down_block_types"][i]
        up_attn = "CrossAttn" in cfg["up_block_types"][i]
        for j in range(lpb):
            idx = i * (lpb + 1) + j + 1
            pairs.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{idx}.0."))
            if down_attn:
                pairs.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{idx}.1."))
        if i < n - 1:
            pairs.append((f"down_blocks.{i}.downsamplers.0.conv.", f"input_blocks.{(i + 1) * (lpb + 1)}.0.op."))
        for j in range(lpb + 1):
            idx = i * (lpb + 1) + j
            pairs.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{idx}.0."))
            if up_attn:
                pairs.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{idx}.1."))
        if i < n - 1:
            slot = 2 if up_attn else 1
            pairs.append((f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{i * (lpb + 1) + lpb}.{slot}."))
    return pairs


def _swap_prefix(key: str, pairs: list[tuple[str, str]]) -> tuple[str, str] | None:
    for old, new in pairs:
        if key.startswith(old):
            return new, key[len(old):]
    return None


def unet_to_ldm(sd: Mapping[str, Any], cfg: Mapping[str, Any]) -> dict[str, Any]:
    blocks = _unet_blocks(cfg)
    out: dict[str, Any] = {}
    for key, value in sd.items():
        top = _swap_prefix(key, UNET_TOP)
        if top:
            out[UNET_PREFIX + top[0] + top[1]] = value
            continue
        found = _swap_prefix(key, blocks)
        if found is None:
            raise KeyError(f"no LDM name for UNet key {key}")
        new, rest = found
        if new.endswith(".0.") or new == "middle_block.2.":
            rest = _rename_first(rest, RESNET_UNET)
        out[UNET_PREFIX + new + rest] = value
    return out


def _rename_first(rest: str, pairs: list[tuple[str, str]]) -> str:
    head, _, tail = rest.partition(".")
    for old, new in pairs:
        if head == old:
            return f"{new}.{tail}"
    return rest


def _vae_prefixes(cfg: Mapping[str, Any]) -> list[tuple[str, str]]:
    n = len(cfg["block_out_channels"])
    lpb = int(cfg["layers_per_block"])
    pairs = [("encoder.conv_norm_out.", "encoder.norm_out."), ("decoder.conv_norm_out.", "decoder.norm_out.")]
    for part in ("encoder", "decoder"):
        pairs += [(f"{part}.mid_block.resnets.0.", f"{part}.mid.block_1."),
                  (f"{part}.mid_block.resnets.1.", f"{part}.mid.block_2."),
                  (f"{part}.mid_block.attentions.0.", f"{part}.mid.attn_1.")]
    for i in range(n):
        for j in range(lpb):
            pairs.append((f"encoder.down_blocks.{i}.resnets.{j}.", f"encoder.down.{i}.block.{j}."))
        pairs.append((f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample."))
        for j in range(lpb + 1):
            pairs.append((f"decoder.up_blocks.{i}.resnets.{j}.", f"decoder.up.{n - 1 - i}.block.{j}."))
        pairs.append((f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{n - 1 - i}.upsample."))
    return pairs


def vae_to_ldm(sd: Mapping[str, Any], cfg: Mapping[str, Any], prefix: str = VAE_PREFIX) -> dict[str, Any]:
    """VAE keys in LDM layout; the mid-block attention's linear weights become 1x1 convs."""
    pairs = _vae_prefixes(cfg)
    out: dict[str, Any] = {}
    for key, value in sd.items():
        found = _swap_prefix(key, pairs)
        if found is None:
            out[prefix + key] = value
            continue
        new, rest = found
        if new.endswith("attn_1."):
            swapped = _swap_prefix(rest, VAE_ATTN)
            rest = swapped[0] + swapped[1] if swapped else rest
            if rest.endswith(".weight") and value.ndim == 2:
                value = value.reshape(*value.shape, 1, 1)
        else:
            rest = rest.replace("conv_shortcut.", "nin_shortcut.")
        out[prefix + new + rest] = value
    return out


def clip_to_ldm(sd: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """CLIP-L (transformers layout, flattened or not) to ``prefix`` + ``embeddings...``."""
    return {prefix + k.removeprefix("text_model."): v for k, v in sd.items() if k != "text_projection.weight"}


OPENCLIP_LAYER = [(".self_attn.out_proj.", ".attn.out_proj."), (".layer_norm1.", ".ln_1."),
                  (".layer_norm2.", ".ln_2."), (".mlp.fc1.", ".mlp.c_fc."), (".mlp.fc2.", ".mlp.c_proj.")]


def openclip_to_ldm(sd: Mapping[str, Any], prefix: str, cat: Any) -> dict[str, Any]:
    """A transformers CLIP text model to OpenCLIP names; ``cat`` is ``torch.cat``."""
    flat = {k.removeprefix("text_model."): v for k, v in sd.items()}
    out: dict[str, Any] = {
        prefix + "token_embedding.weight": flat.pop("embeddings.token_embedding.weight"),
        prefix + "positional_embedding": flat.pop("embeddings.position_embedding.weight"),
        prefix + "ln_final.weight": flat.pop("final_layer_norm.weight"),
        prefix + "ln_final.bias": flat.pop("final_layer_norm.bias"),
    }
    if "text_projection.weight" in flat:
        out[prefix + "text_projection"] = flat.pop("text_projection.weight").T.contiguous()
    layers = sorted({int(k.split(".")[2]) for k in flat if k.startswith("encoder.layers.")})
    for i in layers:
        src, dst = f"encoder.layers.{i}", f"{prefix}transformer.resblocks.{i}"
        for kind in ("weight", "bias"):
            parts = [flat.pop(f"{src}.self_attn.{p}_proj.{kind}") for p in ("q", "k", "v")]
            out[f"{dst}.attn.in_proj_{kind}"] = cat(parts, 0)
    for key, value in flat.items():
        new = key.replace("encoder.layers.", "transformer.resblocks.")
        for old, repl in OPENCLIP_LAYER:
            new = new.replace(old, repl)
        out[prefix + new] = value
    return out
