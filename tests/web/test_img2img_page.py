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


def test_png_info_from_elsewhere_loads_quoted_values_and_old_sampler_names(page, engine):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    text = ('masterpiece, 1girl, (smile:1.2)\nwith a second line\nNegative prompt: lowres, bad hands\n'
            'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 42, Size: 512x768, '
            'Model hash: 3e71f329d8, Model: anything, Denoising strength: 0.45, Clip skip: 2, '
            'Hires upscale: 1.5, Hires steps: 10, Hires upscaler: "Latent (nearest-exact)", '
            'Lora hashes: "add_detail: 47aaaf0d2945", Version: v1.9.4')
    meta = PngInfo()
    meta.add_text("parameters", text)
    buf = io.BytesIO()
    Image.new("RGB", (32, 48), "white").save(buf, "PNG", pnginfo=meta)
    page.click("[data-tab='pnginfo']")
    page.set_input_files("#png-file", files=[{"name": "a1111.png", "mimeType": "image/png", "buffer": buf.getvalue()}])
    page.wait_for_selector("#png-table tr")
    assert "add_detail: 47aaaf0d2945" in page.text_content("#png-table")
    page.click("#png-to-txt2img")
    expected = {
        "#prompt": "masterpiece, 1girl, (smile:1.2)\nwith a second line", "#negative_prompt": "lowres, bad hands",
        "#steps": "28", "#sampler_name": "DPM++ 2M", "#scheduler": "Karras", "#cfg_scale": "6.5", "#seed": "42",
        "#width": "512", "#height": "768", "#clip_skip": "2", "#hr_scale": "1.5", "#hr_second_pass_steps": "10",
        "#hr_upscaler": "Latent (nearest-exact)", "#hr_denoise": "0.45",
    }
    assert {sel: page.input_value(sel) for sel in expected} == expected
    assert page.is_checked("#enable_hr")


def test_png_info_reads_the_file_itself_when_the_engine_fails(page, engine):
    # A generated picture (Extras outputs carry no generation parameters).
    files = sorted(engine.home.glob("outputs/txt2img-images/*/*.png"))
    if not files:
        engine.post("/sdapi/v1/txt2img", {"prompt": "for the fallback", "steps": 2, "width": 64, "height": 64})
        files = sorted(engine.home.glob("outputs/txt2img-images/*/*.png"))
    page.route("**/sdapi/v1/png-info", lambda route: route.fulfill(
        status=500, content_type="text/plain", body='Traceback (most recent call last):\n  File "x.py"'))
    page.click("[data-tab='pnginfo']")
    page.set_input_files("#png-file", str(files[0]))
    page.wait_for_selector("#png-table tr")
    error = page.text_content("#png-error")
    assert "The engine failed" in error and "Traceback" not in error
    assert "Steps" in page.text_content("#png-table")
