"""The model the worker generates with (shared by loading and generation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.models.builtin import BUILTIN_FILENAME


@dataclass
class LoadedModel:
    pipe: Any  # diffusers StableDiffusionPipeline / StableDiffusionXLPipeline (txt2img)
    arch: str  # "sd1" | "sd1-inpaint" | "sd2" | "sdxl" | "sdxl-refiner" | "demo"
    name: str  # the file name users see, e.g. "v1-5-pruned-emaonly.safetensors"
    path: Path
    sha256: str | None = None
    device: Any = None  # torch.device
    dtype: Any = None  # torch.dtype
    vae_name: str = "Automatic"
    vae_sha256: str | None = None
    applied_loras: dict[str, float] = field(default_factory=dict)
    # Added by model loading (engine/models):
    lora_hashes: dict[str, str] = field(default_factory=dict)  # LoRA name -> 12-hex short hash
    config_dir: Path | None = None  # the assets/configs folder it was built with (None: diffusers folder)
    format: str = "safetensors"  # "safetensors" | "ckpt" | "diffusers"
    vram_mode: str = "high"  # the mode in effect: "high" | "medium" | "low"
    base_vae: Any = None  # the checkpoint's own VAE, kept while another VAE is swapped in
    loras: Any = None  # engine.models.lora.LoraManager bound to this pipe (created on first use)
    embeddings: Any = None  # engine.prompts.embeddings.EmbeddingSet that fits it (set before generating)

    @property
    def is_demo(self) -> bool:
        """Maple's own model (the noise demo or the built-in shapes model), not one of the user's."""
        return bool(self.demo_model)

    @property
    def demo_model(self) -> str:
        """"noise" (the demo), "shapes" (the built-in model) or "" (a user's model)."""
        if self.arch == "demo":
            return "noise"
        return "shapes" if Path(self.path).name == BUILTIN_FILENAME else ""

    @property
    def family(self) -> str:
        """How to generate with it: "sd1" (sd1, sd2, demo), "sd1-inpaint", "sdxl", "sdxl-refiner"."""
        return "sd1" if self.arch in ("sd1", "sd2", "demo") else self.arch

    @property
    def model_hash(self) -> str:
        return (self.sha256 or "")[:10]

    @property
    def title(self) -> str:
        """A1111's title: ``name [hash]``."""
        return f"{self.name} [{self.model_hash}]" if self.sha256 else self.name
