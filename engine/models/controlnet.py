"""ControlNet files: reading them offline, telling SD1.5 from SDXL ones, building the network.

Files come from the model store's ``controlnet`` kind (``models/ControlNet`` and the 秋叶 bundle's
``extensions/sd-webui-controlnet/models``, in the home and in shared folders). Three layouts load:
A1111 single files (``control_model.*`` keys, or the same LDM names bare), single files with
diffusers key names, and diffusers folders (``config.json`` beside the weights). ``.pth``/``.ckpt``
files are read only through torch's weights-only loader.

A ControlNet is a copy of its base UNet's encoder, so its configuration is the loaded checkpoint's
UNet configuration (which came from assets/configs) with the file's own transformer depth and hint
channels; nothing is fetched. Before building, the file's family (SD1.5, SD2, SDXL) is compared
with the loaded checkpoint's and a mismatch is a clear error.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from engine.models.errors import ModelLoadError

log = logging.getLogger(__name__)
LDM_PREFIX = "control_model."
PICKLE_SUFFIXES = (".pth", ".ckpt", ".pt", ".bin")
FAMILY_LABEL = {"sd1": "SD1.5", "sd2": "SD2", "sdxl": "SDXL"}
LABEL_EMB = [(f"label_emb.0.{i}.{p}", f"add_embedding.linear_{n}.{p}") for i, n in ((0, 1), (2, 2))
             for p in ("weight", "bias")]
_ATTN_KEY = re.compile(r"^input_blocks\.(\d+)\.1\.transformer_blocks\.(\d+)\.attn2\.to_k\.weight$")
_DIFFUSERS_ATTN_KEY = re.compile(r"^down_blocks\.(\d+)\.attentions\.0\.transformer_blocks\.(\d+)\.attn2\.to_k\.weight$")


class ControlNetError(ModelLoadError):
    code = "controlnet"
    default_hint = ("Put ControlNet files into models/ControlNet (or a shared A1111 folder's "
                    "extensions/sd-webui-controlnet/models) and pick one made for the loaded checkpoint's family.")


def unet_family(unet: Any) -> str:
    """The ControlNet family a loaded UNet takes: sdxl (text-time embedding), sd2 (width 1024) or sd1."""
    cfg = unet.config
    if cfg.get("addition_embed_type") == "text_time":
        return "sdxl"
    return "sd2" if int(cfg.get("cross_attention_dim") or 0) == 1024 else "sd1"


def read_state(path: Path) -> dict[str, Any]:
    """The tensors of a ControlNet file or diffusers folder (pickles: weights only)."""
    import torch

    if path.is_dir():
        path = _folder_weights(path)
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(path), device="cpu"))
        if path.suffix.lower() in PICKLE_SUFFIXES:
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
            return dict(obj.get("state_dict", obj)) if isinstance(obj, dict) else {}
    except Exception as exc:  # a damaged file, or a pickle that wants to run code
        raise ControlNetError(f"{path.name} cannot be read as a ControlNet: {exc}") from exc
    raise ControlNetError(f"{path.name} is not a ControlNet file (.safetensors, .pth, .ckpt or a diffusers folder)")


def _folder_weights(folder: Path) -> Path:
    for name in ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
                 "diffusion_pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise ControlNetError(f"{folder.name} has no diffusion_pytorch_model weights")


def split_layout(state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """("ldm" | "diffusers", tensors without the ``control_model.`` prefix)."""
    if any(k.startswith(LDM_PREFIX) for k in state):
        return "ldm", {k[len(LDM_PREFIX):]: v for k, v in state.items() if k.startswith(LDM_PREFIX)}
    if "time_embed.0.weight" in state and "input_hint_block.0.weight" in state:
        return "ldm", state
    if "controlnet_cond_embedding.conv_in.weight" in state:
        return "diffusers", state
    raise ControlNetError("the file has no ControlNet tensors (no control_model.*, input_hint_block or "
                          "controlnet_cond_embedding keys): it may be a T2I adapter, a control-LoRA or another kind")


def file_family(layout: str, sd: dict[str, Any]) -> str:
    """sd1, sd2 or sdxl from the tensor names and the cross-attention width."""
    label = "label_emb.0.0.weight" if layout == "ldm" else "add_embedding.linear_1.weight"
    if label in sd:
        return "sdxl"
    width = cross_attention_width(layout, sd)
    return "sd2" if width == 1024 else "sd1"


def cross_attention_width(layout: str, sd: dict[str, Any]) -> int | None:
    pattern = _ATTN_KEY if layout == "ldm" else _DIFFUSERS_ATTN_KEY
    return next((int(v.shape[1]) for k, v in sd.items() if pattern.match(k)), None)


def check_family(name: str, family: str, wanted: str) -> None:
    if family != wanted:
        raise ControlNetError(
            f"{name} is an {FAMILY_LABEL[family]} ControlNet; the loaded checkpoint is {FAMILY_LABEL[wanted]}",
            f"Choose a ControlNet made for {FAMILY_LABEL[wanted]} models, or load an {FAMILY_LABEL[family]} checkpoint.")


def config_for(unet_config: dict[str, Any], sd: dict[str, Any]) -> dict[str, Any]:
    """The ControlNetModel config: the base UNet's, with the file's depth and hint channels."""
    import inspect

    from diffusers import ControlNetModel

    keys = set(inspect.signature(ControlNetModel.__init__).parameters)
    cfg = {k: v for k, v in unet_config.items() if k in keys and not k.startswith("_")}
    cfg["in_channels"] = int(sd["conv_in.weight"].shape[1])
    cfg["conditioning_channels"] = int(sd["controlnet_cond_embedding.conv_in.weight"].shape[1])
    cfg["conditioning_embedding_out_channels"] = _hint_channels(sd)
    depth = _transformer_depth(sd, len(cfg.get("block_out_channels", ())))
    if depth:
        cfg["transformer_layers_per_block"] = depth
    return cfg


def _hint_channels(sd: dict[str, Any]) -> tuple[int, ...]:
    outs = [int(sd["controlnet_cond_embedding.conv_in.weight"].shape[0])]
    i = 1
    while f"controlnet_cond_embedding.blocks.{i}.weight" in sd:
        outs.append(int(sd[f"controlnet_cond_embedding.blocks.{i}.weight"].shape[0]))
        i += 2
    return tuple(outs)


def _transformer_depth(sd: dict[str, Any], n_blocks: int) -> list[int] | None:
    depth = [0] * n_blocks
    for key in sd:
        m = _DIFFUSERS_ATTN_KEY.match(key)
        if m and int(m.group(1)) < n_blocks:
            depth[int(m.group(1))] = max(depth[int(m.group(1))], int(m.group(2)) + 1)
    return [d or 1 for d in depth] if any(depth) else None


def to_diffusers(layout: str, sd: dict[str, Any], unet_config: dict[str, Any]) -> dict[str, Any]:
    if layout == "diffusers":
        return sd
    from diffusers.loaders.single_file_utils import convert_controlnet_checkpoint

    converted = convert_controlnet_checkpoint(sd, {"layers_per_block": unet_config["layers_per_block"]})
    for ldm, new in LABEL_EMB:  # SDXL's text-time embedding, which the converter leaves out
        if ldm in sd and new not in converted:
            converted[new] = sd[ldm]
    return {k: v for k, v in converted.items() if v is not None}


def build(path: Path, unet: Any, wanted: str) -> Any:
    """A ``ControlNetModel`` from ``path`` for the loaded UNet ``unet`` of family ``wanted``."""
    from diffusers import ControlNetModel

    layout, sd = split_layout(read_state(path))
    check_family(path.name, file_family(layout, sd), wanted)
    unet_config = dict(unet.config)
    width = cross_attention_width(layout, sd)
    if width is not None and width != int(unet_config.get("cross_attention_dim", width)):
        raise ControlNetError(f"{path.name} has cross-attention width {width}; the loaded checkpoint "
                              f"has {unet_config.get('cross_attention_dim')}")
    sd = to_diffusers(layout, sd, unet_config)
    cfg = _folder_config(path) or config_for(unet_config, sd)
    with _empty_weights():  # no random initialisation: every tensor comes from the file
        net = ControlNetModel.from_config(cfg)
    try:
        net.load_state_dict(sd, strict=True, assign=True)
    except RuntimeError as exc:
        raise ControlNetError(f"{path.name} does not fit the loaded {FAMILY_LABEL[wanted]} checkpoint's "
                              f"layout: {_first_problem(exc)}") from exc
    import torch

    torch.nn.Module.to(net, dtype=unet.dtype)  # (diffusers' own .to warns about fp32 modules it has none of)
    return net.eval().requires_grad_(False)


def _empty_weights() -> Any:
    from accelerate import init_empty_weights  # type: ignore[import-untyped]

    return init_empty_weights(include_buffers=False)


def _first_problem(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[1] if len(lines) > 1 else lines[0] if lines else type(exc).__name__)[:300]


def _folder_config(path: Path) -> dict[str, Any] | None:
    """A diffusers folder's own config.json (given the folder or its weights file)."""
    config = path / "config.json" if path.is_dir() else path.parent / "config.json"
    if not config.is_file() or (path.is_file() and not path.name.startswith("diffusion_pytorch_model")):
        return None
    return dict(json.loads(config.read_text(encoding="utf-8")))


class ControlNetCache:
    """Built ControlNets, kept while the same checkpoint stays loaded (a few at a time)."""

    def __init__(self, limit: int = 4) -> None:
        self.limit = limit
        self._nets: dict[tuple[str, int, int], Any] = {}

    def get(self, path: Path, unet: Any, wanted: str) -> Any:
        st = path.stat()
        key = (str(path), st.st_mtime_ns, id(unet))
        net = self._nets.get(key)
        if net is None:
            self._nets = {k: v for k, v in self._nets.items() if k[2] == id(unet)}
            while len(self._nets) >= self.limit:
                self._nets.pop(next(iter(self._nets)))
            net = build(path, unet, wanted)
            self._nets[key] = net
            log.info("Loaded ControlNet %s", path.name)
        return net
