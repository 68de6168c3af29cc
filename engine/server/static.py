"""The web page (``assets/web``) at ``/`` and ``/web/...``, and saved images (only images) under ``/outputs/...``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from engine.server.outputs import IMAGE_TYPES, resolve_output

if TYPE_CHECKING:
    from engine.server.service import EngineService

WEB_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "web"

NO_PAGE = """<!doctype html><meta charset="utf-8"><title>Maple engine</title>
<p>The Maple engine is running. Its web page is not installed (assets/web is missing);
the API is at <a href="/docs">/docs</a>.</p>"""


def install(app: FastAPI, service: EngineService, web_dir: Path = WEB_DIR) -> None:
    outputs = service.config.home.outputs_dir

    @app.get("/", include_in_schema=False, response_model=None)
    def index() -> FileResponse | HTMLResponse:
        page = web_dir / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html", headers={"Cache-Control": "no-cache"})
        return HTMLResponse(NO_PAGE)

    @app.get("/outputs/{rel:path}", include_in_schema=False)
    def output_file(rel: str) -> FileResponse:
        path = resolve_output(outputs, rel)  # images only: no settings, logs or other files
        if path is None:
            raise HTTPException(404, "No such image in the outputs folder")
        return FileResponse(path, media_type=IMAGE_TYPES[path.suffix.lower()], headers={"X-Content-Type-Options": "nosniff"})

    if web_dir.is_dir():
        app.mount("/web", StaticFiles(directory=web_dir), name="web")
