"""The ControlNet panel in a real browser: collapsed at first, pickers filtered by control type, the
detected map previewed, and a generation that sends the unit and keeps its map with the result."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from tests.engine.tinycontrolnets import write_tiny_controlnet
from tests.web.helpers import generate_and_wait, set_small

MODEL = "control_v11p_sd15_canny"


def square_png(size: int = 64) -> bytes:
    image = Image.new("RGB", (size, size), "black")
    image.paste((255, 255, 255), (size // 4, size // 4, 3 * size // 4, 3 * size // 4))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _with_controlnet(page: Any, engine: Any) -> None:
    target = engine.home / "models" / "ControlNet" / f"{MODEL}.safetensors"
    if not target.exists():
        write_tiny_controlnet(target, family="shapes")  # fits the engine's built-in model
        engine.get("/controlnet/model_list?update=true")
        page.reload()
        page.wait_for_selector("body[data-ready]")


def _open_canny_unit(page: Any) -> None:
    page.click("#cn-card summary")
    page.wait_for_function("document.querySelector('.cn-unit .cn-type').options.length > 1")
    page.select_option(".cn-unit[data-unit='0'] .cn-type", "Canny")
    page.set_input_files(".cn-unit[data-unit='0'] input[type=file]",
                         files=[{"name": "sq.png", "mimeType": "image/png", "buffer": square_png()}])
    page.wait_for_selector(".cn-unit[data-unit='0'] .cn-picture", state="visible")


def _map_size(page: Any) -> tuple[int, int]:
    src = page.get_attribute(".cn-unit[data-unit='0'] .cn-map", "src") or ""
    assert src.startswith("data:image/png;base64,"), src[:40]
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).size


def test_the_panel_is_collapsed_and_filters_by_control_type(page: Any, engine: Any) -> None:
    _with_controlnet(page, engine)
    assert page.get_attribute("#cn-card", "open") is None
    assert not page.is_visible(".cn-unit")
    page.click("#cn-card summary")
    assert page.locator("#cn-tabs button").count() == 3
    page.wait_for_function("document.querySelector('.cn-unit .cn-type').options.length > 1")
    page.select_option(".cn-unit[data-unit='0'] .cn-type", "Canny")
    modules = page.eval_on_selector_all(".cn-unit[data-unit='0'] .cn-module option", "o => o.map(x => x.value)")
    models = page.eval_on_selector_all(".cn-unit[data-unit='0'] .cn-model option", "o => o.map(x => x.value)")
    assert modules == ["none", "canny"]
    assert models[0] == "None" and [m.split(" [")[0] for m in models[1:]] == [MODEL]
    sliders = page.locator(".cn-unit[data-unit='0'] .cn-thresholds input").count()
    assert sliders == 2  # canny's low and high thresholds


def test_preview_shows_the_detected_map(page: Any, engine: Any) -> None:
    _with_controlnet(page, engine)
    _open_canny_unit(page)
    page.fill(".cn-unit[data-unit='0'] .cn-res", "64")
    page.click(".cn-unit[data-unit='0'] .cn-preview")
    page.wait_for_selector(".cn-unit[data-unit='0'] .cn-map", state="visible")
    assert _map_size(page) == (64, 64)


def test_generation_sends_the_unit_and_keeps_its_map(page: Any, engine: Any) -> None:
    _with_controlnet(page, engine)
    set_small(page)
    _open_canny_unit(page)
    page.select_option(".cn-unit[data-unit='0'] .cn-model", index=1)
    page.fill(".cn-unit[data-unit='0'] .cn-weight", "0.8")
    page.fill(".cn-unit[data-unit='0'] .cn-res", "64")
    before = page.locator("#gallery .thumb").count()
    with page.expect_request("**/sdapi/v1/txt2img") as request:
        generate_and_wait(page)
    unit = request.value.post_data_json["alwayson_scripts"]["controlnet"]["args"][0]
    assert unit["module"] == "canny" and unit["model"].startswith(MODEL) and unit["weight"] == 0.8
    assert unit["image"] and unit["control_mode"] == "Balanced" and unit["resize_mode"] == "Crop and Resize"
    page.wait_for_function(f"document.querySelectorAll('#gallery .thumb').length >= {before + 2}")
    assert _map_size(page) == (64, 64)
    assert page.is_visible(".cn-unit[data-unit='0'] .cn-map")


def test_low_vram_is_offered_on_the_cpu_with_a_note_and_sent(page: Any, engine: Any) -> None:
    _with_controlnet(page, engine)
    set_small(page)
    _open_canny_unit(page)
    box, note = ".cn-unit[data-unit='0'] .cn-lowvram", ".cn-unit[data-unit='0'] .cn-lowvram-note"
    assert page.is_visible(box) and page.is_visible(note)  # the test engine computes on the CPU
    assert "only matters on a GPU" in (page.text_content(note) or "")
    assert "graphics card" in (page.get_attribute(".cn-unit[data-unit='0'] label:has(.cn-lowvram)", "title") or "")
    page.check(box)
    page.select_option(".cn-unit[data-unit='0'] .cn-model", index=1)
    page.fill(".cn-unit[data-unit='0'] .cn-res", "64")
    with page.expect_request("**/sdapi/v1/txt2img") as request:
        generate_and_wait(page)
    assert request.value.post_data_json["alwayson_scripts"]["controlnet"]["args"][0]["low_vram"] is True
    page.click("#lang-switch")
    label = page.text_content(".cn-unit[data-unit='0'] label:has(.cn-lowvram) span")
    assert label == "低显存" and "GPU" in (page.text_content(note) or "") and "没有区别" in (page.text_content(note) or "")
    assert "显卡" in (page.get_attribute(".cn-unit[data-unit='0'] label:has(.cn-lowvram)", "title") or "")


def test_on_a_gpu_low_vram_has_no_cpu_note(page: Any, engine: Any) -> None:
    import json

    page.route("**/maple/v1/info", lambda route: route.fulfill(  # the engine as a GPU machine answers
        json=dict(json.loads(route.fetch().text()), device="cuda", vram_mode="high", demo=False)))
    page.reload()
    page.wait_for_selector("body[data-ready]")
    page.click("#cn-card summary")
    assert page.is_visible(".cn-unit[data-unit='0'] .cn-lowvram")
    assert page.is_hidden(".cn-unit[data-unit='0'] .cn-lowvram-note")
