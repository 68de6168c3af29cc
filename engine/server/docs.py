"""``/docs`` (Swagger UI) and ``/redoc`` with their scripts and styles served by the engine itself.

FastAPI's own pages load Swagger UI from a CDN, which leaves ``/docs`` blank offline. The files
come from the ``fastapi-offline`` package (Swagger UI 5, which reads OpenAPI 3.1) and are served
under ``/docs-static/``.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

log = logging.getLogger(__name__)

STATIC_URL = "/docs-static"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def assets_dir() -> Path | None:
    """The folder that holds Swagger UI's files, found without importing the package."""
    spec = importlib.util.find_spec("fastapi_offline")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        static = Path(folder) / "static"
        if all((static / name).is_file() for name in ASSETS):
            return static
    return None


def install(app: FastAPI, static: Path | None) -> bool:
    """Serve /docs and /redoc from ``static``; False (FastAPI's CDN pages stay) when it is None."""
    if static is None:
        log.warning("Swagger UI's files are not installed (fastapi-offline); /docs needs the internet.")
        return False
    app.mount(STATIC_URL, StaticFiles(directory=static), name="docs-static")
    title = f"{app.title} - API"
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=title, oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js", swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/favicon.png",
        )

    @app.get(redirect_url, include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=title, redoc_js_url=f"{STATIC_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{STATIC_URL}/favicon.png", with_google_fonts=False)

    return True
