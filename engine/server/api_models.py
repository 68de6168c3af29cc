"""Pydantic request and response models with AUTOMATIC1111's field names and shapes.

Range checks live here so a bad request is refused with a 422 naming the field before it reaches
the worker. Fields A1111 accepts but Maple ignores are still accepted (extra keys are allowed), so
existing clients keep working.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_SIDE = 2048
MIN_SIDE = 64
MAX_STEPS = 150
MAX_BATCH_SIZE = 8
MAX_N_ITER = 100
MAX_IMAGES = 100  # batch_size * n_iter


def _multiple_of_8(value: int) -> int:
    if value % 8:
        raise ValueError(f"must be a multiple of 8 (got {value}; try {max(MIN_SIDE, value // 8 * 8)})")
    return value


class GenerationRequest(BaseModel):
    """Fields shared by txt2img and img2img."""

    model_config = ConfigDict(extra="allow")

    prompt: str = ""
    negative_prompt: str = ""
    styles: list[str] = Field(default_factory=list, description="prompt styles (GET /sdapi/v1/prompt-styles)")
    seed: int = Field(-1, ge=-1, le=2**32 - 1)
    subseed: int = Field(-1, ge=-1, le=2**32 - 1, description="variation seed; -1: random")
    subseed_strength: float = Field(0.0, ge=0.0, le=1.0, description="0 keeps the seed's noise, 1 is the variation seed's")
    seed_resize_from_w: int = Field(-1, ge=-1, le=MAX_SIDE, description="draw the noise at this size (<= 0: off)")
    seed_resize_from_h: int = Field(-1, ge=-1, le=MAX_SIDE)
    tiling: bool = Field(False, description="seamless tiling: circular padding for this request")
    sampler_name: str | None = None
    sampler_index: str | None = None  # A1111's older name for sampler_name
    scheduler: str | None = None
    batch_size: int = Field(1, ge=1, le=MAX_BATCH_SIZE)
    n_iter: int = Field(1, ge=1, le=MAX_N_ITER)
    steps: int = Field(20, ge=1, le=MAX_STEPS)
    cfg_scale: float = Field(7.0, ge=1.0, le=30.0)
    width: int = Field(512, ge=MIN_SIDE, le=MAX_SIDE)
    height: int = Field(512, ge=MIN_SIDE, le=MAX_SIDE)
    denoising_strength: float | None = Field(None, ge=0.0, le=1.0)
    override_settings: dict[str, Any] = Field(default_factory=dict)
    override_settings_restore_afterwards: bool = True
    send_images: bool = True
    save_images: bool = True

    _side = field_validator("width", "height")(_multiple_of_8)

    @field_validator("seed_resize_from_w", "seed_resize_from_h")
    @classmethod
    def _resize_from(cls, value: int) -> int:
        if 0 < value < 8:
            raise ValueError(f"must be at least 8 pixels, or 0 / -1 for off (got {value})")
        return value

    @field_validator("n_iter")
    @classmethod
    def _total(cls, value: int, info: Any) -> int:
        size = info.data.get("batch_size", 1)
        if size * value > MAX_IMAGES:
            raise ValueError(f"batch_size x n_iter is {size * value}; at most {MAX_IMAGES} images per request")
        return value


class Txt2ImgRequest(GenerationRequest):
    enable_hr: bool = False
    hr_scale: float = Field(2.0, ge=1.0, le=4.0)
    hr_upscaler: str = "Latent"
    hr_second_pass_steps: int = Field(0, ge=0, le=MAX_STEPS)
    hr_resize_x: int = Field(0, ge=0, le=MAX_SIDE)
    hr_resize_y: int = Field(0, ge=0, le=MAX_SIDE)


class Img2ImgRequest(GenerationRequest):
    init_images: list[str] = Field(default_factory=list)
    resize_mode: int = Field(0, ge=0, le=3)
    mask: str | None = None
    mask_blur: int = Field(4, ge=0, le=64)
    inpainting_fill: int = Field(1, ge=0, le=3)
    inpaint_full_res: bool = False
    inpaint_full_res_padding: int = 0
    inpainting_mask_invert: int = Field(0, ge=0, le=1)
    include_init_images: bool = False


class GenerationResponse(BaseModel):
    images: list[str] = Field(description="base64 PNG images (empty when send_images is false)")
    parameters: dict[str, Any]
    info: str = Field(description="JSON text: seed, all_seeds, infotexts, sd_model_name, ...")


class ProgressState(BaseModel):
    skipped: bool = False
    interrupted: bool = False
    stopping_generation: bool = False
    job: str = ""
    job_count: int = 0
    job_timestamp: str = "0"
    job_no: int = 0
    sampling_step: int = 0
    sampling_steps: int = 0


class ProgressResponse(BaseModel):
    progress: float
    eta_relative: float
    state: ProgressState
    current_image: str | None = None
    textinfo: str | None = None


class SDModelItem(BaseModel):
    title: str
    model_name: str
    hash: str | None = None
    sha256: str | None = None
    filename: str
    config: str | None = None


class SDVaeItem(BaseModel):
    model_name: str
    filename: str


class LoraItem(BaseModel):
    name: str
    alias: str
    path: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class SamplerItem(BaseModel):
    name: str
    aliases: list[str]
    options: dict[str, Any] = Field(default_factory=dict)


class SchedulerItem(BaseModel):
    name: str
    label: str
    aliases: list[str] | None = None
    default_rho: float = -1
    need_inner_model: bool = False


class PngInfoRequest(BaseModel):
    image: str = Field(description="base64 PNG, with or without a data: prefix")


class PngInfoResponse(BaseModel):
    info: str
    items: dict[str, Any]
    parameters: dict[str, Any]


class TokenCountRequest(BaseModel):
    prompt: str = ""


class TokenCountResponse(BaseModel):
    tokens: int
    chunks: int
    limit: int


class ReadyResponse(BaseModel):
    ready: bool
    model: str | None
    startup_time: float | None


class InfoResponse(BaseModel):
    version: str
    device: str
    precision: str
    vram_mode: str  # "" on a device without VRAM (the CPU)
    model: str | None
    demo: bool
    demo_model: str = ""  # "shapes" (the built-in model), "noise" (the demo) or "" (a user's model)
    home: str  # the data home this engine serves: the launcher and maple-doctor tell their own engine by it
    pid: int


class OutputItem(BaseModel):
    name: str
    url: str
    mode: str
    infotext: str


class OutputsResponse(BaseModel):
    dates: list[str]
    images: list[OutputItem]
