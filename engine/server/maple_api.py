"""Maple's own endpoints under ``/maple/v1/``: readiness, shutdown, info, token count, outputs."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from engine.server import api_models as m
from engine.server import limits, outputs
from engine.server.service import EngineService

router = APIRouter(prefix="/maple/v1", tags=["maple"])

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost", "testclient"}


def svc(request: Request) -> EngineService:
    service: EngineService = request.app.state.service
    return service


@router.get("/ready", response_model=m.ReadyResponse)
def ready(request: Request) -> m.ReadyResponse:
    service = svc(request)
    is_ready = service.ready.is_set()
    return m.ReadyResponse(
        ready=is_ready,
        model=service.runtime.current_title() if is_ready else None,
        startup_time=round(service.startup_time, 2) if service.startup_time is not None else None,
    )


@router.post("/shutdown")
def shutdown(request: Request) -> dict[str, bool]:
    client = request.client.host if request.client else ""
    if client not in LOCAL_HOSTS:
        raise HTTPException(403, "Shutdown is only accepted from this computer (127.0.0.1)")
    svc(request).request_shutdown()
    return {"stopping": True}


@router.get("/info", response_model=m.InfoResponse)
def info(request: Request) -> m.InfoResponse:
    return svc(request).info()


@router.get("/unusable-models")
def unusable_models(request: Request) -> list[dict[str, object]]:
    """Model files that cannot be used (broken, or failed to load), each with its plain sentence."""
    return svc(request).runtime.unusable_models()


@router.post("/token-count", response_model=m.TokenCountResponse)
async def token_count(request: Request, req: m.TokenCountRequest) -> m.TokenCountResponse:
    limits.check_prompt(req.prompt, "prompt")
    return await run_in_threadpool(svc(request).runtime.token_count, req.prompt)


@router.get("/outputs", response_model=m.OutputsResponse)
def list_outputs(request: Request, date: str | None = None) -> m.OutputsResponse:
    root = svc(request).config.home.outputs_dir
    dates = outputs.list_dates(root)
    day = date or (dates[0] if dates else None)
    if day is not None and not outputs.DATE.match(day):
        raise HTTPException(422, "date: must look like YYYY-MM-DD")
    found = outputs.list_images(root, day) if day else []
    items = [m.OutputItem(name=i.name, url=i.url, mode=i.mode, infotext=i.infotext) for i in found]
    return m.OutputsResponse(dates=dates, images=items)
