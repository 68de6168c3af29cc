"""Tiny random-weight textual-inversion embeddings in every format users have, written by the tests.

``write_embedding(path, fmt, vectors)`` writes ``vectors`` (a float32 tensor (count, width), or for
SDXL a dict with ``clip_l`` / ``clip_g``) as:
- ``"pt"``: A1111's ``.pt`` (``string_to_param: {"*": tensor}``, ``step``, ``sd_checkpoint``, ...);
- ``"pt-legacy"``: the original textual-inversion ``.pt`` whose ``string_to_param`` is a ParameterDict;
- ``"safetensors"``: kohya's ``{"emb_params": tensor}``;
- ``"bin"``: diffusers' ``learned_embeds.bin`` (``{"<token>": tensor}``);
- ``"sdxl"``: ``{"clip_l": ..., "clip_g": ...}`` as ``.safetensors``; ``"sdxl-pt"``: the same as a pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FORMATS = ("pt", "pt-legacy", "safetensors", "bin")
SUFFIX = {"pt": ".pt", "pt-legacy": ".pt", "safetensors": ".safetensors", "bin": ".bin",
          "sdxl": ".safetensors", "sdxl-pt": ".pt"}


def random_vectors(count: int, width: int, seed: int = 0) -> Any:
    import torch

    return torch.randn(count, width, generator=torch.Generator().manual_seed(seed))


def sdxl_vectors(count: int, widths: tuple[int, int] = (32, 64), seed: int = 0) -> dict[str, Any]:
    return {"clip_l": random_vectors(count, widths[0], seed), "clip_g": random_vectors(count, widths[1], seed + 1)}


def write_embedding(folder: Path, name: str, fmt: str, vectors: Any, step: int = 500) -> Path:
    """Write one embedding named ``name`` (the file's stem) into ``folder``; returns its path."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{SUFFIX[fmt]}"
    if fmt == "pt":
        torch.save({"string_to_token": {"*": 265}, "string_to_param": {"*": vectors.clone()}, "name": name,
                    "step": step, "sd_checkpoint": "0123456789", "sd_checkpoint_name": "base"}, str(path))
    elif fmt == "pt-legacy":
        params = torch.nn.ParameterDict({"*": torch.nn.Parameter(vectors.clone())})
        torch.save({"string_to_token": {"*": 265}, "string_to_param": params}, str(path))
    elif fmt == "safetensors":
        save_file({"emb_params": vectors.contiguous()}, str(path))
    elif fmt == "bin":
        torch.save({f"<{name}>": vectors.clone()}, str(path))
    elif fmt == "sdxl":
        save_file({k: v.contiguous() for k, v in vectors.items()}, str(path))
    elif fmt == "sdxl-pt":
        torch.save({k: v.clone() for k, v in vectors.items()}, str(path))
    else:
        raise ValueError(f"unknown embedding format {fmt!r}")
    return path
