"""The config folders shipped in assets/configs: which one an architecture uses, and a check.

Each folder holds diffusers configs only (no weights): ``model_index.json``, ``scheduler/``,
``unet/``, ``vae/``, ``text_encoder(_2)/`` and ``tokenizer(_2)/`` with the tokenizer's settings.
The CLIP BPE files themselves (``vocab.json``, ``merges.txt``) are stored once, in
``assets/configs/clip-bpe/``, and the tokenizers are built from them here (diffusers takes a
ready tokenizer object). diffusers fails silently on an incomplete folder (an empty tokenizer, a
default text encoder), so ``check_config_dir`` looks before anything loads.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from engine.models.errors import ConfigMissingError

CONFIGS_ROOT = Path(__file__).resolve().parent.parent.parent / "assets" / "configs"
BPE_DIR = CONFIGS_ROOT / "clip-bpe"
BPE_FILES = ("vocab.json", "merges.txt")
ARCH_CONFIG = {
    "sd1": "sd1", "sd1-inpaint": "sd1-inpaint", "sd2": "sd2", "sdxl": "sdxl",
    "sdxl-refiner": "sdxl-refiner", "sdxl-inpaint": "sdxl-inpaint", "demo": "demo",
}
# Architectures the model manager names apart that load as another (v-prediction: a scheduler setting)
LOADS_AS = {"sdxl-vpred": "sdxl"}
# Small configs for Maple's own tiny models (the demo, test models): a file selects one through
# its safetensors metadata key ``maple.config``; the value is (folder, architecture it behaves as).
TINY_CONFIGS = {
    "demo": ("demo", "demo"),
    "tiny-sd1": ("demo", "sd1"),
    "shapes": ("shapes", "sd1"),  # the built-in shapes model (scripts/train_demo_model.py)
    "tiny-sd1-inpaint": ("tiny-sd1-inpaint", "sd1-inpaint"),
    "tiny-sd2": ("tiny-sd2", "sd2"),
    "tiny-sdxl": ("tiny-sdxl", "sdxl"),
    "tiny-sdxl-inpaint": ("tiny-sdxl-inpaint", "sdxl-inpaint"),
}
CONFIG_METADATA_KEY = "maple.config"
ARCH_NAMES_SUPPORTED = frozenset(ARCH_CONFIG)
PIPELINE_CLASS = {
    "sd1": "StableDiffusionPipeline", "sd2": "StableDiffusionPipeline",
    "demo": "StableDiffusionPipeline", "sd1-inpaint": "StableDiffusionInpaintPipeline",
    "sdxl": "StableDiffusionXLPipeline", "sdxl-refiner": "StableDiffusionXLImg2ImgPipeline",
    "sdxl-inpaint": "StableDiffusionXLInpaintPipeline",
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def config_dir(arch: str) -> Path:
    """The config folder for an architecture id (``sd1``...) or a tiny-config name."""
    name = ARCH_CONFIG.get(arch) or TINY_CONFIGS.get(arch, ("", ""))[0]
    if not name:
        raise ConfigMissingError(f"Maple has no model configuration for architecture {arch!r}")
    return CONFIGS_ROOT / name


def resolve_config(arch: str, metadata: dict[str, str]) -> tuple[Path, str]:
    """(config folder, effective architecture) for a file of ``arch`` with this metadata."""
    wanted = metadata.get(CONFIG_METADATA_KEY, "")
    if wanted and _NAME.match(wanted) and wanted in TINY_CONFIGS:
        folder, as_arch = TINY_CONFIGS[wanted]
        return CONFIGS_ROOT / folder, as_arch
    arch = LOADS_AS.get(arch, arch)
    return config_dir(arch), arch


def read_json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def components(folder: Path) -> dict[str, tuple[str, str]]:
    """The pipeline components ``model_index.json`` asks for (null ones left out)."""
    index = read_json(folder / "model_index.json")
    return {k: (v[0], v[1]) for k, v in index.items()
            if isinstance(v, list) and len(v) == 2 and v[0] is not None}


def required_files(folder: Path) -> list[Path]:
    files = [folder / "model_index.json"]
    for name in components(folder):
        if name.startswith("tokenizer"):
            files += [folder / name / "tokenizer_config.json", folder / name / "special_tokens_map.json"]
        elif name == "scheduler":
            files.append(folder / name / "scheduler_config.json")
        else:
            files.append(folder / name / "config.json")
    return files + [BPE_DIR / f for f in BPE_FILES]


def check_config_dir(folder: Path) -> None:
    """Raise ``ConfigMissingError`` naming every missing or unreadable file in ``folder``."""
    if not (folder / "model_index.json").is_file():
        raise ConfigMissingError(f"The model configuration folder {folder} is missing or empty")
    problems = []
    for path in required_files(folder):
        try:
            read_json(path) if path.suffix == ".json" and path.parent != BPE_DIR else path.stat()
        except (OSError, ValueError) as exc:
            shown = path.relative_to(folder.parent) if path.is_relative_to(folder.parent) else path
            problems.append(f"{shown} ({exc.__class__.__name__})")
    if problems:
        raise ConfigMissingError("Maple's model configuration is incomplete: " + ", ".join(problems))


@lru_cache(maxsize=1)
def _bpe() -> tuple[dict[str, int], tuple[tuple[str, str], ...]]:
    vocab = json.loads((BPE_DIR / "vocab.json").read_text(encoding="utf-8"))
    lines = (BPE_DIR / "merges.txt").read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")[1:]
    merges = tuple((a, b) for a, _, b in (m.partition(" ") for m in lines if m))
    return vocab, merges


def load_tokenizer(folder: Path, subfolder: str = "tokenizer") -> Any:
    """A ``CLIPTokenizer`` from the shared BPE files and ``folder/subfolder``'s settings.

    Built once per folder and shared (tokenizing does not change a tokenizer).
    """
    return _tokenizer(str(folder), subfolder)


@lru_cache(maxsize=16)
def _tokenizer(folder_name: str, subfolder: str) -> Any:
    from transformers import CLIPTokenizer

    folder = Path(folder_name)
    settings = read_json(folder / subfolder / "tokenizer_config.json")
    special = folder / subfolder / "special_tokens_map.json"
    if special.is_file():  # as in transformers, the special tokens map wins (SD2's pad is "!")
        settings.update(read_json(special))
    vocab, pairs = _bpe()
    merges: Any = list(pairs)
    return CLIPTokenizer(
        vocab=dict(vocab),
        merges=merges,
        pad_token=_token(settings.get("pad_token", "<|endoftext|>")),
        model_max_length=int(settings.get("model_max_length", 77)),
    )


def _token(value: Any) -> str:
    return str(value["content"]) if isinstance(value, dict) else str(value)
