"""The Extras tab in a real browser: drop a picture or send one from the gallery, pick an upscaler
and a scale, see the result with its infotext; hires fix lists the upscaler models too."""

from __future__ import annotations

import base64
import io

from PIL import Image

from tests.engine.tinyupscalers import compact_state, write_safetensors
from tests.web.helpers import generate_and_wait, png_bytes, set_small

UPSCALER = "tiny_web_2x"


def _with_upscaler(page, engine) -> None:
    target = engine.home / "models" / "ESRGAN" / f"{UPSCALER}.safetensors"
    if not target.exists():
        write_safetensors(target, compact_state(scale=2))
        engine.post("/sdapi/v1/refresh-checkpoints")
        page.reload()
        page.wait_for_selector("body[data-ready]")


def _result_size(page) -> tuple[int, int]:
    src = page.get_attribute("#extras-result-img", "src") or ""
    assert src.startswith("data:image/png;base64,"), src[:40]
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).size


def test_dropping_a_picture_and_upscaling_it_with_a_model(page, engine) -> None:
    _with_upscaler(page, engine)
    page.click("[data-tab='extras']")
    page.set_input_files("#extras-file", files=[{"name": "in.png", "mimeType": "image/png", "buffer": png_bytes(48)}])
    page.wait_for_selector("#extras-img", state="visible")
    page.select_option("#extras-upscaler1", UPSCALER)
    assert page.input_value("#extras-scale") == "2"  # the name says 2x
    with page.expect_request("**/sdapi/v1/extra-single-image") as request:
        page.click("#extras-run")
    page.wait_for_selector("#extras-result-img", state="visible")
    sent = request.value.post_data_json
    assert (sent["upscaler_1"], sent["upscaling_resize"], sent["resize_mode"]) == (UPSCALER, 2, 0)
    page.wait_for_function("document.querySelector('#extras-status').textContent.includes('×')")
    assert _result_size(page) == (96, 96)
    assert page.text_content("#extras-info") == f"Postprocess upscale by: 2, Postprocess upscaler: {UPSCALER}"
    assert "96×96" in page.text_content("#extras-status")
    assert list(engine.home.glob("outputs/extras-images/*/*.png"))


def test_scale_to_with_lanczos_and_a_refusal_shown(page, engine) -> None:
    page.click("[data-tab='extras']")
    page.set_input_files("#extras-file", files=[{"name": "in.png", "mimeType": "image/png", "buffer": png_bytes(48)}])
    page.check("#extras-mode-to")
    assert page.is_visible("#extras-width") and not page.is_visible("#extras-scale")
    page.fill("#extras-width", "120")
    page.fill("#extras-height", "64")
    page.select_option("#extras-upscaler1", "Lanczos")
    page.click("#extras-run")
    page.wait_for_function("document.querySelector('#extras-info').textContent.includes('crop to')")
    assert _result_size(page) == (120, 64)
    page.fill("#extras-width", "9000")  # beyond A1111's 8192: the engine's message is shown
    page.click("#extras-run")
    page.wait_for_function("document.querySelector('#extras-error').textContent.length > 0")
    assert "8192" in page.text_content("#extras-error")


def test_sending_a_generated_picture_from_the_gallery(page, engine) -> None:
    _with_upscaler(page, engine)
    set_small(page)
    page.fill("#prompt", "send me to extras")
    generate_and_wait(page)
    page.click("#info-panel [data-action='send.extras']")
    assert page.get_attribute("[data-tab='extras']", "aria-selected") == "true"
    page.wait_for_function("document.querySelector('#extras-img').naturalWidth === 64")
    page.check("#extras-mode-by")
    page.select_option("#extras-upscaler1", "Nearest")
    page.fill("#extras-scale", "2")
    page.click("#extras-run")
    page.wait_for_selector("#extras-result-img", state="visible")
    page.wait_for_function("document.querySelector('#extras-info').textContent.includes('Nearest')")
    assert _result_size(page) == (128, 128)


def test_hires_fix_offers_the_upscaler_models(page, engine) -> None:
    _with_upscaler(page, engine)
    options = page.eval_on_selector_all("#hr_upscaler option", "nodes => nodes.map(n => n.value)")
    assert options[0] == "Latent" and "Lanczos" in options and UPSCALER in options
