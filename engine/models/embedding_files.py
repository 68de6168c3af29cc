"""Reading textual-inversion embedding files in the formats users have, without running code.

- ``.pt`` / ``.bin`` made by A1111 or the original textual-inversion code: a dict whose
  ``string_to_param`` holds one tensor (``{"*": tensor}``, older files a ``ParameterDict``), with
  ``step``, ``sd_checkpoint`` and ``sd_checkpoint_name`` beside it;
- ``.safetensors`` from kohya's scripts: ``{"emb_params": tensor}``;
- diffusers' ``learned_embeds.bin``: ``{"<token>": tensor}`` (one term; a 1-D tensor is one vector);
- SDXL files: ``{"clip_l": (n, 768), "clip_g": (n, 1280)}`` in either container.

Pickle files are opened with ``torch.load(weights_only=True)``, which refuses anything but
tensors and plain containers before it runs. The vectors come back as float32 CPU tensors keyed by
the text encoder they belong to: ``""`` for SD1/SD2 files, ``"clip_l"``/``"clip_g"`` for SDXL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.prompts.embeddings import SINGLE, Embedding
from installer.errors import BrokenModelError

EXTENSIONS = (".pt", ".bin", ".safetensors")
SDXL_KEYS = ("clip_l", "clip_g")


class EmbeddingFileError(BrokenModelError):
    code = "embedding-broken"
    default_hint = "The file is not a textual-inversion embedding, or it is damaged: download it again."


def read_embedding(path: Path) -> Embedding:
    """The embedding in one file, named after it (no hash yet); raises ``EmbeddingFileError`` with the reason."""
    raw = _load(path)
    if not isinstance(raw, dict) or not raw:
        raise EmbeddingFileError(f"{path.name} is not an embedding (no tensors in it)")
    vectors = _vectors(raw, path.name)
    counts = {int(v.shape[0]) for v in vectors.values()}
    if len(counts) != 1 or 0 in counts:
        raise EmbeddingFileError(f"{path.name} has encoders with different vector counts {sorted(counts)}")
    return Embedding(path.stem, vectors, path, step=_int(raw.get("step")),
                     sd_checkpoint=_text(raw.get("sd_checkpoint")),
                     sd_checkpoint_name=_text(raw.get("sd_checkpoint_name")))


def _load(path: Path) -> Any:
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise EmbeddingFileError(f"{path.name} cannot be read: {exc}") from exc
    return _load_pickle(path)


def _load_pickle(path: Path) -> Any:
    import pickle

    import torch

    try:
        with torch.serialization.safe_globals([torch.nn.ParameterDict, torch.nn.Parameter]):
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise EmbeddingFileError(f"{path.name} holds more than tensors, so Maple does not open it: "
                                 f"{str(exc).splitlines()[0]}") from exc
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise EmbeddingFileError(f"{path.name} cannot be read: {exc}") from exc


def _vectors(raw: dict[str, Any], name: str) -> dict[str, Any]:
    if "string_to_param" in raw:
        params = raw["string_to_param"]
        params = dict(getattr(params, "_parameters", params))
        return {SINGLE: _single(params, name)}
    if all(k in raw for k in SDXL_KEYS):
        return {k: _matrix(raw[k], name) for k in SDXL_KEYS}
    tensors = {k: v for k, v in raw.items() if _is_tensor(v)}
    return {SINGLE: _single(tensors, name)}


def _single(tensors: dict[str, Any], name: str) -> Any:
    if len(tensors) != 1:
        raise EmbeddingFileError(f"{name} holds {len(tensors)} terms; an embedding file holds one")
    return _matrix(next(iter(tensors.values())), name)


def _matrix(value: Any, name: str) -> Any:
    import torch

    if not _is_tensor(value) or value.dim() not in (1, 2):
        raise EmbeddingFileError(f"{name} has no (vectors, width) tensor")
    tensor = value.detach().to("cpu", torch.float32)
    return tensor.unsqueeze(0) if tensor.dim() == 1 else tensor


def _is_tensor(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor)


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str) and value else None
