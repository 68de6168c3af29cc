"""The contract between the engine's HTTP side and its generation side.

The HTTP handlers turn A1111 requests into ``GenParams``; the single GPU worker runs them with a
``JobControl`` that reports progress and carries interrupt/skip; generation returns ``GenResult``.
Nothing here imports torch at module level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

Mode = Literal["txt2img", "img2img"]


@dataclass(frozen=True)
class LoraRef:
    """A LoRA asked for by ``<lora:NAME:WEIGHT>``, resolved to a file by the model registry."""

    name: str
    weight: float
    path: str = ""
    short_hash: str = ""


@dataclass(frozen=True)
class GenParams:
    mode: Mode = "txt2img"
    prompt: str = ""  # with <lora:...> tags already removed
    negative_prompt: str = ""
    loras: tuple[LoraRef, ...] = ()
    seed: int = -1  # -1: random; image i of a batch uses seed + i
    sampler_name: str = "Euler a"
    scheduler: str = "Automatic"  # A1111's "Schedule type"
    steps: int = 20
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    batch_size: int = 1
    n_iter: int = 1
    clip_skip: int = 1
    # hires fix (txt2img)
    enable_hr: bool = False
    hr_scale: float = 2.0
    hr_upscaler: str = "Latent"
    hr_upscaler_path: str = ""  # the model file of a GAN upscaler ("" for the latent and built-in ones)
    hr_second_pass_steps: int = 0  # 0: same as steps
    denoising_strength: float = 0.75  # img2img, inpaint and the hires pass
    # img2img / inpaint
    init_images: tuple[Image, ...] = ()
    mask: Image | None = None
    mask_blur: int = 4
    inpainting_fill: int = 1  # 0 fill, 1 original, 2 latent noise, 3 latent nothing
    inpainting_mask_invert: bool = False
    inpaint_full_res: bool = False
    resize_mode: int = 0  # 0 just resize, 1 crop and resize, 2 resize and fill, 3 latent upscale
    # variation seeds (engine/generation/variation.py) and seamless tiling
    subseed: int = -1  # -1: random; image i of the job uses subseed + i
    subseed_strength: float = 0.0
    seed_resize_from_w: int = 0  # <= 0: off
    seed_resize_from_h: int = 0
    tiling: bool = False
    # noise as A1111 draws it (engine/generation/rng.py): "GPU" (A1111's default), "CPU" or "NV"
    randn_source: str = "GPU"
    eta_noise_seed_delta: int = 0  # ancestral samplers' step noise comes from seed + this
    styles: tuple[str, ...] = ()  # the prompt styles already applied to prompt / negative_prompt
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenResult:
    images: list[Image]
    seeds: list[int]
    infotexts: list[str]
    interrupted: bool = False
    subseeds: list[int] = field(default_factory=list)  # each image's variation seed
    detected_maps: list[Image] = field(default_factory=list)  # ControlNet units' maps (save_detected_map)
    detected_labels: list[str] = field(default_factory=list)  # each map's preprocessor (its saved file's name)


class JobControl(Protocol):
    """What generation calls while it runs; the worker's implementation feeds /progress."""

    def on_step(self, image_index: int, step: int, total_steps: int, latents: Any) -> None:
        """Called after each denoising step; ``latents`` is the current latent tensor."""

    def should_interrupt(self) -> bool:
        """True once the user asked to stop the whole job."""

    def should_skip(self) -> bool:
        """True once the user asked to skip the current image (batch); generation clears it."""

    def clear_skip(self) -> None: ...
