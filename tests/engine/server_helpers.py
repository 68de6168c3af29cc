"""Starting a real engine (service, worker, FastAPI app) on a home with tiny models, for API tests."""

from __future__ import annotations

import base64
import io
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from engine import cli
from engine.server.app import ServerThread, create_app
from engine.server.runtime import Runtime
from engine.server.service import EngineService
from installer.home import Home
from tests.engine.tinymodels import write_tiny_checkpoint, write_tiny_lora, write_tiny_vae

SMALL = {"width": 64, "height": 64, "steps": 2, "seed": 11}
LOCAL_BASE = "http://127.0.0.1:7860"  # the engine answers only Host names of this machine, with its port


@dataclass
class Engine:
    service: EngineService
    client: TestClient
    home: Home


def populate(home: Home) -> None:
    """Two tiny SD1 checkpoints, a broken one, a VAE and a LoRA."""
    ckpts = home.models_dir("checkpoint")
    write_tiny_checkpoint(ckpts / "tiny.safetensors", seed=0)
    write_tiny_checkpoint(ckpts / "other" / "tiny2.safetensors", seed=1)
    write_tiny_vae(home.models_dir("vae") / "tinyvae.safetensors")
    write_tiny_lora(home.models_dir("lora") / "detail.safetensors")


def config_for(home: Home, *flags: str) -> cli.EngineConfig:
    return cli.parse(["--home", str(home.root), "--device", "cpu", *flags], env={}, probe_machine=False)


@contextmanager
def populated_engine(tmp_path_factory: Any, name: str) -> Iterator[Engine]:
    """A module's engine: a fresh home named ``name`` with ``populate``'s models, serving tiny.safetensors."""
    home = Home(tmp_path_factory.mktemp(name) / "home").ensure()
    populate(home)
    with running_engine(home, "--model", "tiny.safetensors") as eng:
        yield eng


def engine_fixture(name: str) -> Any:
    """A module-scoped ``engine`` fixture on ``populated_engine``'s home named ``name``.

    A test module assigns it: ``engine = engine_fixture("guards")``.
    """

    @pytest.fixture(scope="module")
    def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
        with populated_engine(tmp_path_factory, name) as eng:
            yield eng

    return engine


@contextmanager
def running_engine(home: Home, *flags: str) -> Iterator[Engine]:
    config = config_for(home, *flags)
    service = EngineService(config, Runtime(config))
    app = create_app(service)
    service.start()
    assert service.ready.wait(180), f"engine did not start: {service.startup_error!r}"
    try:
        with TestClient(app, base_url=LOCAL_BASE, raise_server_exceptions=False) as client:
            yield Engine(service, client, home)
    finally:
        service.stop(5)


@contextmanager
def served(engine: Engine) -> Iterator[str]:
    """The same engine behind a real uvicorn server on a free local port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY, as the engine's
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = ServerThread(engine.client.app, sock)  # type: ignore[arg-type]
    server.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop(3)


def png_b64(color: str = "red", size: tuple[int, int] = (64, 64), mode: str = "RGB") -> str:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def decode_png(data: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    image.load()
    return image


def output_files(home: Home, mode: str = "txt2img") -> list[Path]:
    return sorted((home.outputs_dir / f"{mode}-images").rglob("*.png"))
