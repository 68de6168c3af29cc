"""img2img with a painted mask, PNG info on a file the engine wrote, and the outputs browser."""

from __future__ import annotations

import base64
import io

from tests.web.helpers import generate_and_wait, paint, png_bytes, set_small, stage_png


def test_img2img_with_uploaded_image_and_painted_mask(page, engine):
    page.click("[data-tab='img2img']")
    page.set_input_files("#init-file", files=[{"name": "in.png", "mimeType": "image/png", "buffer": png_bytes(64)}])
    page.wait_for_selector("#mask-canvas", state="visible")
    paint(page)
    page.fill("#prompt", "repaint the middle")
    set_small(page, steps=4)
    page.fill("#denoising_strength", "0.6")
    with page.expect_request("**/sdapi/v1/img2img") as request:
        generate_and_wait(page)
    sent = request.value.post_data_json
    assert sent["init_images"] and sent["denoising_strength"] == 0.6

    from PIL import Image

    mask = Image.open(io.BytesIO(base64.b64decode(sent["mask"]))).convert("L")
    assert mask.size == (64, 64)
    assert mask.getpixel((32, 30)) == 255 and mask.getpixel((2, 62)) == 0  # painted stroke vs corner
    result = Image.open(io.BytesIO(stage_png(page)))
    assert result.size == (64, 64)
    assert "Denoising strength: 0.6" in page.text_content("#info-text")


def test_mask_invert_and_clear(page, engine):
    page.click("[data-tab='img2img']")
    page.set_input_files("#init-file", files=[{"name": "in.png", "mimeType": "image/png", "buffer": png_bytes(64)}])
    page.wait_for_selector("#mask-canvas", state="visible")
    count = "() => { const c = document.querySelector('#mask-canvas'); const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 127; return n; }"
    assert page.evaluate(count) == 0
    paint(page)
    painted = page.evaluate(count)
    assert 0 < painted < 64 * 64
    page.click("#mask-invert")
    assert page.evaluate(count) == 64 * 64 - painted
    page.click("#mask-clear")
    assert page.evaluate(count) == 0


def test_png_info_reads_a_file_the_engine_wrote(page, engine):
    engine.post("/sdapi/v1/txt2img", {"prompt": "saved by the engine", "steps": 3, "width": 64, "height": 64,
                                     "seed": 1234, "cfg_scale": 6})
    files = sorted(engine.home.glob("outputs/txt2img-images/*/*.png"), key=lambda p: p.stat().st_mtime)
    assert files
    page.click("[data-tab='pnginfo']")
    page.set_input_files("#png-file", str(files[-1]))
    page.wait_for_selector("#png-table tr")
    table = page.text_content("#png-table")
    assert "saved by the engine" in table and "1234" in table
    page.click("#png-to-txt2img")
    assert page.get_attribute("[data-tab='txt2img']", "aria-selected") == "true"
    assert page.input_value("#prompt") == "saved by the engine"
    assert page.input_value("#seed") == "1234"
    assert page.input_value("#steps") == "3"
    assert page.input_value("#cfg_scale") == "6"


def test_outputs_tab_lists_the_day_and_sends_to_img2img(page, engine):
    set_small(page)
    page.fill("#prompt", "for the outputs tab")
    generate_and_wait(page)
    page.click("[data-tab='outputs']")
    page.wait_for_selector("#outputs-grid .out-thumb")
    names = {p.name for p in engine.home.glob("outputs/*-images/*/*.png")}
    shown = page.locator("#outputs-grid .out-thumb").count()
    assert 0 < shown <= len(names)
    page.locator("#outputs-grid .out-thumb").first.click()
    page.wait_for_selector("#lightbox:not([hidden])")
    page.wait_for_function("document.querySelector('#lb-img').naturalWidth > 0")
    page.click("#lightbox [data-action='send.img2img']")
    page.wait_for_selector("#mask-canvas", state="visible")
    assert page.get_attribute("[data-tab='img2img']", "aria-selected") == "true"
