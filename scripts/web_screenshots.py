"""Screenshots of each tab of Maple's web page, in English and Chinese, light and dark.

    .venv/bin/python scripts/web_screenshots.py OUT_DIR [--url http://127.0.0.1:7860]

Without --url it starts an engine on a free port with a temporary home (the demo model).
Needs Debian's chromium at /usr/bin/chromium and the playwright package.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ROOT = Path(__file__).resolve().parent.parent
TABS = ("txt2img", "img2img", "pnginfo", "outputs")
PROMPT = "a maple forest in autumn, golden light, (masterpiece:1.2), detailed"
NEGATIVE = "lowres, blurry, watermark"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/maple/v1/ready", timeout=2) as r:
            if b'"ready":true' in r.read().replace(b" ", b""):
                return
        time.sleep(0.3)
    raise SystemExit(f"the engine at {url} did not become ready in {timeout:.0f} s")


def write_loras(folder: Path, names: tuple[str, ...] = ("add_detail", "film_grain", "watercolor_style")) -> None:
    """Tiny kohya-format LoRA files, so the LoRA browser has cards to show."""
    import numpy as np
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    base = "lora_te_text_model_encoder_layers_0_self_attn_q_proj"
    for name in names:
        save_file({f"{base}.lora_down.weight": np.zeros((4, 32), np.float16),
                   f"{base}.lora_up.weight": np.zeros((32, 4), np.float16),
                   f"{base}.alpha": np.array(4.0, np.float16)}, str(folder / f"{name}.safetensors"))


@contextlib.contextmanager
def engine(with_loras: bool = True) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="maple-shots-") as home:
        if with_loras:
            write_loras(Path(home) / "models" / "Lora")
        port = free_port()
        cmd = [sys.executable, "-m", "engine", "--home", home, "--port", str(port), "--device", "cpu"]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url)
            yield url
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
            if proc.poll() is None:
                proc.kill()


def fill_and_generate(page) -> bytes:
    page.fill("#prompt", PROMPT)
    page.fill("#negative_prompt", NEGATIVE)
    page.fill("#steps", "8")
    page.fill("#width", "192")
    page.fill("#height", "192")
    page.fill("#batch_size", "2")
    page.click("#generate")
    page.wait_for_selector("#gallery .thumb, #gen-error:not([hidden])", timeout=180_000)
    if page.is_visible("#gen-error"):
        raise SystemExit(f"the engine refused to generate: {page.text_content('#gen-error')}")
    page.wait_for_selector("#generate:not([disabled])", timeout=120_000)
    src = page.get_attribute("#stage-img", "src") or ""
    return base64.b64decode(src.split(",", 1)[1])


def paint_mask(page) -> None:
    box = page.locator("#mask-canvas").bounding_box()
    assert box, "mask canvas is not visible"
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.35)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.6, steps=12)
    page.mouse.up()


def calm(page) -> None:
    """Hide the passing toast and show the left column from its top."""
    page.evaluate("document.querySelector('#toast').hidden = true; document.querySelector('#left-panel').scrollTop = 0")
    page.mouse.move(1270, 790)


def shoot(browser, url: str, out: Path, lang: str, theme: str) -> None:
    locale = "zh-CN" if lang == "zh" else "en-US"
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale, color_scheme=theme)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-ready]", timeout=60_000)
    png = fill_and_generate(page)
    page.locator("#lora-card summary").click()
    if page.locator(".lora-card").count() > 1:
        page.locator(".lora-card").nth(1).click()
    calm(page)
    page.screenshot(path=str(out / f"txt2img-{lang}-{theme}.png"))
    page.click("[data-action='send.img2img']")
    page.wait_for_selector("#mask-canvas", state="visible")
    page.locator("#lora-card summary").click()
    calm(page)
    paint_mask(page)
    calm(page)
    page.screenshot(path=str(out / f"img2img-{lang}-{theme}.png"))
    page.click("[data-tab='pnginfo']")
    page.set_input_files("#png-file", files=[{"name": "maple.png", "mimeType": "image/png", "buffer": png}])
    page.wait_for_selector("#png-table tr")
    calm(page)
    page.screenshot(path=str(out / f"pnginfo-{lang}-{theme}.png"))
    page.click("[data-tab='outputs']")
    page.wait_for_selector("#outputs-grid .out-thumb, #outputs-grid .empty")
    page.wait_for_timeout(300)
    calm(page)
    page.screenshot(path=str(out / f"outputs-{lang}-{theme}.png"))
    context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--url", help="a running engine (default: start one with a temporary home)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        url = args.url.rstrip("/") if args.url else stack.enter_context(engine())
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for lang in ("en", "zh"):
                for theme in ("light", "dark"):
                    shoot(browser, url, args.out, lang, theme)
                    print(f"saved {lang} {theme}")
            browser.close()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
