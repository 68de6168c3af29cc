"""Routes for textual-inversion embeddings and prompt styles.

A1111's ``GET /sdapi/v1/embeddings``, ``POST /sdapi/v1/refresh-embeddings`` and
``GET /sdapi/v1/prompt-styles`` with its shapes, and Maple's ``POST /maple/v1/styles``, which
saves a style into the home's ``styles.csv`` (the page's "save as style").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from engine.server.service import EngineService

sdapi = APIRouter(prefix="/sdapi/v1", tags=["sdapi"])
maple = APIRouter(prefix="/maple/v1", tags=["maple"])


class EmbeddingItem(BaseModel):
    step: int | None = None
    sd_checkpoint: str | None = None
    sd_checkpoint_name: str | None = None
    shape: int
    vectors: int


class EmbeddingsResponse(BaseModel):
    loaded: dict[str, EmbeddingItem]
    skipped: dict[str, EmbeddingItem]


class PromptStyleItem(BaseModel):
    name: str
    prompt: str
    negative_prompt: str


class SaveStyleRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    prompt: str = Field("", max_length=20_000)
    negative_prompt: str = Field("", max_length=20_000)


class SaveStyleResponse(BaseModel):
    saved: PromptStyleItem
    path: str = Field(description="the styles file it was written to")
    styles: list[PromptStyleItem]


def _service(request: Request) -> EngineService:
    service: EngineService = request.app.state.service
    return service


@sdapi.get("/embeddings", response_model=EmbeddingsResponse)
async def embeddings(request: Request) -> dict[str, Any]:
    runtime = _service(request).runtime
    return await run_in_threadpool(runtime.prompts.embeddings_listing, runtime.model)


@sdapi.post("/refresh-embeddings")
async def refresh_embeddings(request: Request) -> None:
    service = _service(request)
    runtime = service.runtime
    await service.call("refresh embeddings", lambda control: runtime.prompts.reload_embeddings(runtime.model))


@sdapi.get("/prompt-styles", response_model=list[PromptStyleItem])
async def prompt_styles(request: Request) -> list[dict[str, str]]:
    return await run_in_threadpool(_service(request).runtime.prompts.styles_listing)


@maple.post("/styles", response_model=SaveStyleResponse)
async def save_style(request: Request, req: SaveStyleRequest) -> dict[str, Any]:
    prompts = _service(request).runtime.prompts
    saved = await run_in_threadpool(prompts.styles.save, req.name, req.prompt, req.negative_prompt)
    listing = await run_in_threadpool(prompts.styles_listing)
    return {"saved": saved.to_api(), "path": saved.path, "styles": listing}
