"""AUTOMATIC1111's ``/sdapi/v1/`` endpoints. Handlers validate, then hand the work to the worker."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from starlette.concurrency import run_in_threadpool

from engine.server import api_models as m
from engine.server import disconnect, images, listings, options, prepare, sysinfo
from engine.server.service import EngineService

router = APIRouter(prefix="/sdapi/v1", tags=["sdapi"])


def svc(request: Request) -> EngineService:
    service: EngineService = request.app.state.service
    return service


async def _generate(request: Request, mode: str, req: m.GenerationRequest) -> m.GenerationResponse:
    service = svc(request)
    job = await run_in_threadpool(service.runtime.prepare, mode, req)
    outcome = await disconnect.call(request, service.worker, mode,  # the images are decoded as the job starts
                                    lambda control: service.runtime.run(prepare.materialize(job), control),
                                    job_count=req.n_iter)
    encoded = await run_in_threadpool(images.encode_all, outcome.images, outcome.infotexts) if req.send_images else []
    return m.GenerationResponse(images=encoded, parameters=req.model_dump(), info=outcome.info_json())


@router.post("/txt2img", response_model=m.GenerationResponse)
async def txt2img(request: Request, req: m.Txt2ImgRequest) -> m.GenerationResponse:
    return await _generate(request, "txt2img", req)


@router.post("/img2img", response_model=m.GenerationResponse)
async def img2img(request: Request, req: m.Img2ImgRequest) -> m.GenerationResponse:
    return await _generate(request, "img2img", req)


@router.get("/progress", response_model=m.ProgressResponse)
async def progress(request: Request, skip_current_image: bool = False) -> m.ProgressResponse:
    return await run_in_threadpool(svc(request).progress_report, skip_current_image)


@router.post("/interrupt")
def interrupt(request: Request) -> dict[str, Any]:
    svc(request).worker.interrupt()
    return {}


@router.post("/skip")
def skip(request: Request) -> dict[str, Any]:
    svc(request).worker.skip()
    return {}


@router.get("/options")
def get_options(request: Request) -> dict[str, Any]:
    return svc(request).runtime.options()


@router.post("/options")
async def set_options(request: Request, req: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    service = svc(request)
    changes = await run_in_threadpool(options.check_options, req, service.runtime.registry)
    await service.call("options", lambda control: service.runtime.apply_options(changes))
    return {}


@router.get("/sd-models", response_model=list[m.SDModelItem])
def sd_models(request: Request) -> list[m.SDModelItem]:
    return listings.sd_models(svc(request).runtime.registry)


@router.get("/sd-vae", response_model=list[m.SDVaeItem])
def sd_vae(request: Request) -> list[m.SDVaeItem]:
    return listings.sd_vaes(svc(request).runtime.registry)


@router.get("/loras", response_model=list[m.LoraItem])
def loras(request: Request) -> list[m.LoraItem]:
    return listings.loras(svc(request).runtime.registry)


@router.get("/samplers", response_model=list[m.SamplerItem])
def samplers(request: Request) -> list[m.SamplerItem]:
    return listings.samplers()


@router.get("/schedulers", response_model=list[m.SchedulerItem])
def schedulers(request: Request) -> list[m.SchedulerItem]:
    return listings.schedulers()


async def _refresh(request: Request, kind: str) -> None:
    service = svc(request)
    await service.call(f"refresh {kind}", lambda control: service.runtime.refresh())


@router.post("/refresh-checkpoints")
async def refresh_checkpoints(request: Request) -> None:
    await _refresh(request, "checkpoint")


@router.post("/refresh-vae")
async def refresh_vae(request: Request) -> None:
    await _refresh(request, "vae")


@router.post("/refresh-loras")
async def refresh_loras(request: Request) -> None:
    await _refresh(request, "lora")


@router.post("/png-info", response_model=m.PngInfoResponse)
def png_info(request: Request, req: m.PngInfoRequest) -> m.PngInfoResponse:
    return images.png_info(req.image)


@router.get("/memory")
def memory(request: Request) -> dict[str, Any]:
    return sysinfo.memory()
