"""Request and response shapes of A1111's Extras routes and upscaler lists, with A1111's field names.

A field A1111 does not have is refused (422 naming it); face restoration is refused when asked
for (Maple has none). Maple adds ``save_images`` (default true, as for its generation routes).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_EXTRAS_SIDE = 8192  # A1111's own "Scale to" limit; a 2048x2048 picture upscaled 4x
MAX_BATCH_IMAGES = 32


class ExtrasRequest(BaseModel):
    """The fields both Extras routes share."""

    model_config = ConfigDict(extra="forbid")

    resize_mode: Literal[0, 1] = Field(0, description="0: scale by upscaling_resize; 1: scale to upscaling_resize_w x _h")
    show_extras_results: bool = Field(True, description="false: the response carries no images")
    gfpgan_visibility: float = Field(0, ge=0, le=1, allow_inf_nan=False, description="face restoration: Maple has none (must be 0)")
    codeformer_visibility: float = Field(0, ge=0, le=1, allow_inf_nan=False, description="face restoration: Maple has none (must be 0)")
    codeformer_weight: float = Field(0, ge=0, le=1, allow_inf_nan=False, description="used only with CodeFormer")
    upscaling_resize: float = Field(2, ge=1, le=8, allow_inf_nan=False, description="the factor for resize_mode 0")
    upscaling_resize_w: int = Field(512, ge=1, le=MAX_EXTRAS_SIDE, description="the width for resize_mode 1")
    upscaling_resize_h: int = Field(512, ge=1, le=MAX_EXTRAS_SIDE, description="the height for resize_mode 1")
    upscaling_crop: bool = Field(True, description="resize_mode 1: crop the result to exactly that size")
    upscaler_1: str = Field("None", description="an upscaler from GET /sdapi/v1/upscalers")
    upscaler_2: str = Field("None", description="a second upscaler, blended over the first")
    extras_upscaler_2_visibility: float = Field(0, ge=0, le=1, allow_inf_nan=False)
    upscale_first: bool = Field(False, description="upscale before face restoration (no effect: Maple has none)")
    save_images: bool = Field(True, description="Maple: save the results under outputs/extras-images/DATE/")


class ExtrasSingleImageRequest(ExtrasRequest):
    image: str = Field("", description="base64 image (PNG, JPEG, WebP, BMP or GIF), with or without a data: prefix")


class FileData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: str = Field(description="base64 image")
    name: str = Field("", description="its file name")


class ExtrasBatchImagesRequest(ExtrasRequest):
    imageList: list[FileData] = Field(default_factory=list, max_length=MAX_BATCH_IMAGES)  # noqa: N815 (A1111's name)


class ExtrasSingleImageResponse(BaseModel):
    html_info: str = Field(description="the postprocessing infotext as HTML")
    image: str = Field("", description="base64 PNG")


class ExtrasBatchImagesResponse(BaseModel):
    html_info: str
    images: list[str]


class UpscalerItem(BaseModel):
    name: str
    model_name: str | None = None
    model_path: str | None = None
    model_url: str | None = None
    scale: float | None = None


class LatentUpscaleModeItem(BaseModel):
    name: str


class RealesrganItem(BaseModel):
    name: str
    path: str | None = None
    scale: int | None = None
