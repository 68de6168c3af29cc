"""A1111's Extras and upscaler-list routes: ``/sdapi/v1/extra-single-image``, ``extra-batch-images``,
``upscalers``, ``latent-upscale-modes`` and ``realesrgan-models``.

The HTTP thread checks the request (names, sizes, the images' headers) and the one worker
upscales, saves and encodes, like every other job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from engine.errors import BadRequestError
from engine.generation.extras import ExtrasJob, infotext, output_size, run_extras
from engine.generation.hires import LATENT_UPSCALERS
from engine.models.upscalers import Upscaler, all_upscalers, find_upscaler
from engine.server import extras_models as x
from engine.server import image_inputs
from engine.server.extras_outputs import encode_result, html_info, save_extras
from engine.server.limits import MAX_REQUEST_PIXELS
from engine.server.service import EngineService

router = APIRouter(prefix="/sdapi/v1", tags=["sdapi"])
NO_FACES = ("Maple has no face restoration (GFPGAN, CodeFormer): send 0. It upscales with the upscalers "
            "of GET /sdapi/v1/upscalers (upscaler_1, upscaler_2).")


@dataclass(frozen=True)
class Planned:
    job: ExtrasJob
    images: tuple[image_inputs.ImageInput, ...]
    names: tuple[str, ...]


def _service(request: Request) -> EngineService:
    service: EngineService = request.app.state.service
    return service


def plan(service: EngineService, req: x.ExtrasRequest, images: list[tuple[str, str, str]]) -> Planned:
    """In an HTTP thread: the request checked; ``images`` are (base64, request field, file name)."""
    for name in ("gfpgan_visibility", "codeformer_visibility"):
        if getattr(req, name) > 0:
            raise BadRequestError.about(name, "face restoration is not available", NO_FACES)
    registry = service.runtime.registry
    second = find_upscaler(registry, req.upscaler_2, "upscaler_2") if req.extras_upscaler_2_visibility > 0 else None
    job = ExtrasJob(req.resize_mode, req.upscaling_resize, req.upscaling_resize_w, req.upscaling_resize_h,
                    req.upscaling_crop, find_upscaler(registry, req.upscaler_1, "upscaler_1"), second,
                    req.extras_upscaler_2_visibility)
    probed = tuple(image_inputs.probe(data, field) for data, field, _name in images)
    if sum(p.pixels for p in probed) > MAX_REQUEST_PIXELS:
        raise BadRequestError.about("imageList", f"more than {MAX_REQUEST_PIXELS} pixels in all")
    for image in probed:
        _check_size(job, image)
    return Planned(job, probed, tuple(name for _data, _field, name in images))


def _check_size(job: ExtrasJob, image: image_inputs.ImageInput) -> None:
    width, height = output_size((image.width, image.height), job)
    if max(width, height) > x.MAX_EXTRAS_SIDE:
        field = "upscaling_resize" if job.resize_mode == 0 else "upscaling_resize_w"
        raise BadRequestError.about(field, f"{image.field} would become {width}x{height}; "
                                    f"at most {x.MAX_EXTRAS_SIDE} pixels a side")


def work(service: EngineService, planned: Planned, save: bool, control: Any) -> tuple[list[str], list[Any], list[str]]:
    """In the worker: (texts, images, sources' parameters) for each input, saved when asked."""
    from engine.generation.upscale import Settings

    settings = Settings(device=_device(service))
    texts, results, sources = [], [], []
    for image in planned.images:
        if control.should_interrupt():
            break
        with image_inputs.load(image) as loaded:
            source = loaded.info.get("parameters", "")
            result, info = run_extras(loaded.convert("RGB"), planned.job, settings)
        texts.append(infotext(info))
        results.append(result)
        sources.append(source if isinstance(source, str) else "")
    if save and results:
        save_extras(service.config.home.outputs_dir, results, texts, sources, list(planned.names))
    return texts, results, sources


def _device(service: EngineService) -> Any:
    choice = service.runtime.choice
    return choice.torch_device if choice is not None else "cpu"


async def _run(request: Request, req: x.ExtrasRequest, images: list[tuple[str, str, str]]) -> tuple[str, list[str]]:
    service = _service(request)
    planned = await run_in_threadpool(plan, service, req, images)
    texts, results, sources = await service.call(
        "extras", lambda control: work(service, planned, req.save_images, control), job_count=len(images))
    encoded = [] if not req.show_extras_results else await run_in_threadpool(
        lambda: [encode_result(r, t, s) for r, t, s in zip(results, texts, sources, strict=True)])
    return html_info(texts[0] if texts else ""), encoded


@router.post("/extra-single-image", response_model=x.ExtrasSingleImageResponse)
async def extra_single_image(request: Request, req: x.ExtrasSingleImageRequest) -> x.ExtrasSingleImageResponse:
    if not req.image:
        raise BadRequestError.about("image", "a base64 image is needed")
    info, encoded = await _run(request, req, [(req.image, "image", "")])
    return x.ExtrasSingleImageResponse(html_info=info, image=encoded[0] if encoded else "")


@router.post("/extra-batch-images", response_model=x.ExtrasBatchImagesResponse)
async def extra_batch_images(request: Request, req: x.ExtrasBatchImagesRequest) -> x.ExtrasBatchImagesResponse:
    if not req.imageList:
        raise BadRequestError.about("imageList", "at least one image is needed")
    files = [(f.data, f"imageList[{i}].data", f.name) for i, f in enumerate(req.imageList)]
    info, encoded = await _run(request, req, files)
    return x.ExtrasBatchImagesResponse(html_info=info, images=encoded)


def upscaler_item(upscaler: Upscaler) -> x.UpscalerItem:
    return x.UpscalerItem(name=upscaler.name, model_name=upscaler.family,
                          model_path=str(upscaler.path) if upscaler.path else None, model_url=None,
                          scale=float(upscaler.scale))


@router.get("/upscalers", response_model=list[x.UpscalerItem])
def upscalers(request: Request) -> list[x.UpscalerItem]:
    return [upscaler_item(u) for u in all_upscalers(_service(request).runtime.registry)]


@router.get("/latent-upscale-modes", response_model=list[x.LatentUpscaleModeItem])
def latent_upscale_modes() -> list[x.LatentUpscaleModeItem]:
    return [x.LatentUpscaleModeItem(name=name) for name in LATENT_UPSCALERS]


@router.get("/realesrgan-models", response_model=list[x.RealesrganItem])
def realesrgan_models(request: Request) -> list[x.RealesrganItem]:
    found = all_upscalers(_service(request).runtime.registry)
    return [x.RealesrganItem(name=u.name, path=str(u.path), scale=u.scale) for u in found if u.family == "RealESRGAN"]
