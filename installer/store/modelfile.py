"""Reading model files without loading them: the safetensors header, the kind and architecture.

Everything here reads a few kilobytes at most and never imports torch. A file that is not a
usable model (truncated, an HTML error page, a git-LFS pointer, a bad header) raises
``BrokenModelError`` with the reason a user can act on.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.errors import BrokenModelError
from installer.store.architectures import FAMILY_NAMES, lora_family, transformer_family, unet_arch

MAX_HEADER = 100 * 1024 * 1024
DEMO_METADATA_KEY = "maple.demo"

# Architecture ids and the names users know.
ARCH_NAMES = {
    "sd1": "SD1.x",
    "sd1-inpaint": "SD1.x inpainting",
    "sd2": "SD2.x",
    "sdxl": "SDXL base",
    "sdxl-refiner": "SDXL refiner",
    "demo": "Maple demo (noise)",
    "esrgan": "ESRGAN",
    "compact": "Compact (SRVGG)",
    "swinir": "SwinIR / HAT",
    "dat": "DAT",
    **FAMILY_NAMES,  # the other model families, named so the model manager shows what a file is
    "unknown": "unknown",
}
KINDS = ("checkpoint", "vae", "lora", "taesd", "embedding", "upscaler", "controlnet", "unknown")
# Upscaler families told apart by a few tensor names (spandrel decides the details when it loads).
UPSCALER_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("esrgan", ("model.0.weight", "model.1.sub.0.RDB1.conv1.0.weight")),  # ESRGAN (old layout)
    ("esrgan", ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight")),  # Real-ESRGAN
    ("esrgan", ("conv_first.weight", "RRDB_trunk.0.RDB1.conv1.weight", "trunk_conv.weight")),  # BSRGAN
    ("dat", ("conv_first.weight", "before_RG.1.weight", "layers.0.blocks.0.attn.qkv.weight")),
    ("swinir", ("layers.0.residual_group.blocks.0.norm1.weight", "layers.0.residual_group.blocks.0.mlp.fc1.bias")),
    ("compact", ("body.0.weight", "body.1.weight")),
)
EMBEDDING_WIDTHS = {768: "sd1", 1024: "sd2"}  # one text encoder's width -> the family it fits


@dataclass(frozen=True)
class Header:
    tensors: dict[str, dict[str, Any]]
    metadata: dict[str, str]
    header_len: int
    data_len: int

    @property
    def data_offset(self) -> int:
        """Where the tensor bytes start (A1111's LoRA hash covers everything from here)."""
        return 8 + self.header_len

    def shape(self, key: str) -> list[int] | None:
        info = self.tensors.get(key)
        return list(info["shape"]) if info else None


def _sniff(head: bytes) -> str | None:
    text = head.lstrip()[:64].lower()
    if text.startswith(b"version https://git-lfs"):
        return "it is a git-LFS pointer, not the model (the real file was never fetched)"
    if text.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
        return "it is an HTML page (an error or login page saved under the model's name)"
    if text.startswith((b"{", b"[")) and len(head) >= 8 and struct.unpack("<Q", head[:8])[0] > MAX_HEADER:
        return "it is a JSON document, not a model"
    return None


def read_header(path: Path) -> Header:
    """Parse and check a safetensors header; the file's size must match what it declares."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise BrokenModelError(f"{path.name} is empty or truncated ({size} bytes)")
            sniffed = _sniff(head + fh.read(56))
            if sniffed:
                raise BrokenModelError(f"{path.name} is not a model: {sniffed}")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER:
                raise BrokenModelError(f"{path.name} is not a safetensors file (header length {n} is too large)")
            if 8 + n > size:
                raise BrokenModelError(f"{path.name} is truncated: its header is cut off ({size} bytes)")
            fh.seek(8)
            raw = fh.read(n)
    except OSError as exc:
        raise BrokenModelError(f"{path.name} cannot be read: {exc.strerror or exc}") from exc
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BrokenModelError(f"{path.name} has a damaged header ({exc.__class__.__name__})") from exc
    if not isinstance(parsed, dict):
        raise BrokenModelError(f"{path.name} has a damaged header (not a JSON object)")
    metadata = parsed.pop("__metadata__", None) or {}
    data_len = 0
    for key, info in parsed.items():
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2 and "shape" in info):
            raise BrokenModelError(f"{path.name} has a damaged header (tensor {key!r})")
        data_len = max(data_len, int(offsets[1]))
    expected = 8 + n + data_len
    if size < expected:
        raise BrokenModelError(
            f"{path.name} is truncated: {size:,} of {expected:,} bytes (an interrupted download?)"
        )
    return Header(parsed, {str(k): str(v) for k, v in metadata.items()}, n, data_len)


def _lycoris(keys: list[str]) -> bool:
    """LyCORIS LoHa (``hada_w1_a``) and LoKr (``lokr_w1``) files, which A1111 applies like LoRAs."""
    return any(".hada_w1_a" in k or ".lokr_w1" in k for k in keys)


def _lora_arch(keys: list[str]) -> str:
    family = lora_family(keys)
    if family is not None:
        return family
    if any(k.startswith(("lora_te2_", "lora_te1_")) or "text_encoder_2" in k for k in keys):
        return "sdxl"
    if any("input_blocks_" in k or "output_blocks_" in k for k in keys) and any(
        "transformer_blocks_9" in k or "transformer_blocks.9" in k for k in keys
    ):
        return "sdxl"
    if any(k.startswith(("lora_te_", "lora_unet_", "text_encoder.", "unet.")) for k in keys):
        return "sd1"
    return "unknown"


def _checkpoint_arch(h: Header) -> str:
    """An all-in-one file's family (FLUX, SD3 ...), else its Stable Diffusion UNet's architecture."""
    return transformer_family(h.tensors) or unet_arch(h)


def _embedding_arch(h: Header) -> str | None:
    """The family of a textual-inversion embedding file (None: the file is not one)."""
    keys = list(h.tensors)
    if {"clip_l", "clip_g"} <= set(keys):
        return "sdxl"
    single = keys == ["emb_params"] or (len(keys) == 1 and keys[0].startswith("string_to_param"))
    shape = h.shape(keys[0]) if len(keys) == 1 else None
    if not (single or (shape is not None and 1 <= len(shape) <= 2)):  # diffusers' {token: vectors}
        return None
    return EMBEDDING_WIDTHS.get((shape or [0])[-1], "unknown")


def upscaler_arch(keys: list[str]) -> str | None:
    """The upscaler family whose tensor names ``keys`` has (None: not an upscaler Maple knows)."""
    present = set(keys)
    return next((arch for arch, names in UPSCALER_KEYS if present.issuperset(names)), None)


def controlnet_arch(h: Header) -> str | None:
    """sd1, sd2 or sdxl for a ControlNet file (A1111 or diffusers key names); None: not one."""
    keys = h.tensors
    ldm = "control_model.input_hint_block.0.weight" in keys or "input_hint_block.0.weight" in keys
    if not ldm and "controlnet_cond_embedding.conv_in.weight" not in keys:
        return None
    prefix = "control_model." if "control_model.input_hint_block.0.weight" in keys else ""
    if (prefix + "label_emb.0.0.weight") in keys or "add_embedding.linear_1.weight" in keys:
        return "sdxl"
    attn = (prefix + "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight" if ldm
            else "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight")
    shape = h.shape(attn)
    return "sd2" if shape is not None and shape[-1] == 1024 else "sd1"


def classify(h: Header) -> tuple[str, str]:
    """Return (kind, arch) from the tensor names and shapes alone."""
    if h.metadata.get(DEMO_METADATA_KEY):
        return "checkpoint", "demo"
    keys = list(h.tensors)
    controlnet = controlnet_arch(h)
    if controlnet is not None:
        return "controlnet", controlnet
    if any(k.startswith("model.diffusion_model.") for k in keys):
        return "checkpoint", _checkpoint_arch(h)
    if any(("lora_down" in k or "lora_up" in k or "lora_A" in k or "lora_B" in k) for k in keys) or _lycoris(keys):
        return "lora", _lora_arch(keys)
    family = transformer_family(keys)
    if family is not None:  # a transformer without the all-in-one prefix (FLUX / SD3 UNet-only files)
        return "checkpoint", family
    if any(k.startswith(("encoder.layers.", "decoder.layers.")) for k in keys):
        return "taesd", "unknown"
    embedding = _embedding_arch(h)
    if embedding is not None:
        return "embedding", embedding
    upscaler = upscaler_arch(keys)
    if upscaler is not None:
        return "upscaler", upscaler
    if any(k.startswith(("encoder.conv_in", "decoder.conv_out", "first_stage_model.encoder")) for k in keys):
        return "vae", "unknown"
    if any(k.startswith(("unet.", "down_blocks.")) for k in keys):
        return "unknown", "unknown"
    return "unknown", "unknown"


def inspect(path: Path) -> tuple[Header, str, str]:
    """Read a safetensors file's header and classify it: (header, kind, arch)."""
    header = read_header(path)
    kind, arch = classify(header)
    return header, kind, arch
