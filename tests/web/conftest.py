"""A real engine on the demo model, and Debian's Chromium driven by Playwright, for the web page tests.

The engine runs once per session as ``python -m engine --home TMP --port FREE`` (it writes its demo
model into the temporary home). Tests skip with a reason when Chromium or Playwright is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ROOT = Path(__file__).resolve().parents[2]
LORA_NAME = "maple_test_lora"
EMBEDDING_NAME = "maple_test_neg"  # a 3-vector embedding for the demo model (width 32)
STYLES_CSV = 'name,prompt,negative_prompt\nanime,"masterpiece, {prompt}",lowres\nsharp,sharp focus,blurry\n'

pytestmark = pytest.mark.browser


def _skip_reason() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def write_tiny_lora(path: Path) -> None:
    """A kohya-format LoRA file (text encoder layer 0 q_proj, rank 4): enough for the LoRA list."""
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(7)
    base = "lora_te_text_model_encoder_layers_0_self_attn_q_proj"
    save_file({
        f"{base}.lora_down.weight": rng.standard_normal((4, 32)).astype(np.float16),
        f"{base}.lora_up.weight": np.zeros((32, 4), np.float16),
        f"{base}.alpha": np.array(4.0, np.float16),
    }, str(path), metadata={"ss_network_module": "networks.lora"})


def write_prompt_extras(home: Path) -> None:
    """An embedding that fits the demo model, one that does not, and a styles.csv with two styles."""
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(11)
    (home / "embeddings").mkdir(parents=True, exist_ok=True)
    save_file({"emb_params": rng.standard_normal((3, 32)).astype(np.float32)},
              str(home / "embeddings" / f"{EMBEDDING_NAME}.safetensors"))
    save_file({"emb_params": rng.standard_normal((2, 768)).astype(np.float32)},
              str(home / "embeddings" / "sd15_only.safetensors"))
    (home / "styles.csv").write_text(STYLES_CSV, encoding="utf-8")


class Engine:
    def __init__(self, home: Path, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.home, self.port, self.proc, self.log = home, port, proc, log
        self.url = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> Any:
        return http_json(self.url + path)

    def post(self, path: str, body: dict[str, Any] | None = None, timeout: float = 120) -> Any:
        return http_json(self.url + path, body or {}, timeout)

    @property
    def checkpoints(self) -> Path:
        return self.home / "models" / "Stable-diffusion"

    def wait_ready(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the engine exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, ValueError):
                if self.get("/maple/v1/ready").get("ready"):
                    return
            time.sleep(0.25)
        raise RuntimeError(f"the engine was not ready in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.post("/maple/v1/shutdown", timeout=5)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    home = tmp_path_factory.mktemp("web-home")
    (home / "models" / "Lora").mkdir(parents=True)
    write_tiny_lora(home / "models" / "Lora" / f"{LORA_NAME}.safetensors")
    write_prompt_extras(home)
    port = free_port()
    log = home / "engine-test.log"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, "-m", "engine", "--home", str(home), "--port", str(port), "--device", "cpu"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    eng = Engine(home, port, proc, log)
    try:
        eng.wait_ready()
        yield eng
    finally:
        eng.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, engine: Engine) -> Iterator[Any]:
    """The page at 1280x800 in English, loaded and ready; console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(engine.url)
    pg.wait_for_selector("body[data-ready]")
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
