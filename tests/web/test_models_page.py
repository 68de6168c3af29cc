"""Checkpoint switching, the LoRA browser, the demo notice, language and theme."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

from tests.web.conftest import LORA_NAME
from tests.web.helpers import generate_and_wait, set_small


def _demo_file(engine):
    files = sorted(engine.checkpoints.glob("*.safetensors"))
    assert files, "the engine wrote no demo model"
    return files[0]


def write_unmarked_copy(demo: Path, target: Path) -> None:
    """The demo's tensors without its demo marker: it reads as an SD1 checkpoint with the wrong shapes."""
    data = demo.read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    header.pop("__metadata__", None)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    target.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + size:])


def test_switching_checkpoints_loads_the_other_model(page, engine):
    demo = _demo_file(engine)
    second = engine.checkpoints / "second_copy.safetensors"
    if not second.exists():
        shutil.copyfile(demo, second)
    page.click("#refresh-models")
    page.wait_for_selector("#checkpoint option[value^='second_copy']", state="attached")
    title = page.get_attribute("#checkpoint option[value^='second_copy']", "value")
    before = page.input_value("#checkpoint")
    try:
        page.select_option("#checkpoint", title)
        page.wait_for_selector("#model-status.ok")
        assert engine.get("/sdapi/v1/options")["sd_model_checkpoint"].startswith("second_copy")
        set_small(page)
        generate_and_wait(page)
        assert "Model: second_copy" in page.text_content("#info-text")
    finally:
        engine.post("/sdapi/v1/options", {"sd_model_checkpoint": before})


def test_a_broken_checkpoint_shows_a_readable_error_and_keeps_the_model(page, engine):
    broken = engine.checkpoints / "broken_download.safetensors"
    write_unmarked_copy(_demo_file(engine), broken)
    try:
        page.click("#refresh-models")
        page.wait_for_selector("#checkpoint option[value^='broken_download']", state="attached")
        before = page.input_value("#checkpoint")
        page.select_option("#checkpoint", page.get_attribute("#checkpoint option[value^='broken_download']", "value"))
        page.wait_for_selector("#model-status.error", timeout=120_000)
        message = page.text_content("#model-status")
        assert message.startswith("Could not load:") and len(message) > len("Could not load: ")
        assert "Traceback" not in message and 'File "' not in message
        assert page.input_value("#checkpoint") == before
    finally:
        broken.unlink()
        engine.post("/sdapi/v1/refresh-checkpoints")


def test_lora_card_inserts_and_removes_its_tag(page, engine):
    page.fill("#prompt", "a castle")
    page.click("#lora-card summary")
    card = page.locator(f".lora-card[data-lora='{LORA_NAME}']")
    card.click()
    assert page.input_value("#prompt") == f"a castle <lora:{LORA_NAME}:1>"
    assert "active" in (card.get_attribute("class") or "")
    page.wait_for_function("document.querySelector('#prompt-tokens').textContent === '2/75'")
    card.click()
    assert page.input_value("#prompt") == "a castle"


def test_demo_notice_language_and_theme(page, engine):
    assert engine.get("/maple/v1/info")["demo"] is True
    assert page.is_visible("#demo-notice")
    assert "draws coloured shapes" in page.text_content("#demo-notice")
    page.click("#lang-switch")
    assert page.text_content("#generate") == "生成"
    assert "彩色图形" in page.text_content("#demo-notice")
    page.click("#theme-switch")
    theme = page.get_attribute("html", "data-theme")
    assert theme in ("light", "dark")
    page.reload()
    page.wait_for_selector("body[data-ready]")
    assert page.text_content("#generate") == "生成"
    assert page.get_attribute("html", "data-theme") == theme
    page.click("#lang-switch")
    assert page.text_content("#generate") == "Generate"


def test_chinese_browser_gets_chinese(browser, engine):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.goto(engine.url)
        pg.wait_for_selector("body[data-ready]")
        assert pg.text_content("[data-tab='txt2img']") == "文生图"
    finally:
        context.close()


def test_switching_the_vae(page, engine):
    from safetensors.numpy import load_file, save_file

    vae = engine.home / "models" / "VAE" / "web_test_vae.safetensors"
    if not vae.exists():
        weights = load_file(str(_demo_file(engine)))
        prefix = "first_stage_model."
        save_file({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}, str(vae))
    page.click("#refresh-models")
    page.wait_for_selector("#vae option[value='web_test_vae.safetensors']", state="attached")
    try:
        page.select_option("#vae", "web_test_vae.safetensors")
        page.wait_for_selector("#model-status.ok")
        set_small(page)
        generate_and_wait(page)
        assert "VAE: web_test_vae.safetensors" in page.text_content("#info-text")
    finally:
        engine.post("/sdapi/v1/options", {"sd_vae": "Automatic"})
