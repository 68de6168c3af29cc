"""For the preprocessor-network tests: the ControlNet routes on a bare app over a home and shared folders,
and a picture as the base64 PNG the routes take."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from engine.server import controlnet_api
from engine.server.app import _on_maple_error
from installer.errors import MapleError


def routes_app(home: Path, shared: list[str]) -> TestClient:
    store = SimpleNamespace(home=SimpleNamespace(root=home), shared_folders=shared)
    registry = SimpleNamespace(store=store, items=lambda kind: [], refresh=lambda: None)
    app = FastAPI()
    app.state.service = SimpleNamespace(runtime=SimpleNamespace(registry=registry))
    app.add_exception_handler(MapleError, _on_maple_error)
    app.include_router(controlnet_api.router)
    return TestClient(app)


def png_b64(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()
