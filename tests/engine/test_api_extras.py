"""Extras, the upscaler lists, hires fix with upscaler models and SD upscale, through the real engine.

The engine serves a home populated with tiny checkpoints and tiny upscaler files (a Real-ESRGAN
.pth under A1111's built-in name, a 2x Compact .safetensors); clients call it as A1111's API,
also through the ``webuiapi`` client.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from installer.home import Home
from tests.engine.server_helpers import (
    Engine,
    decode_png,
    png_b64,
    populate,
    running_engine,
    served,
)
from tests.engine.tinyupscalers import compact_state, esrgan_state, write_pth, write_safetensors

SMALL = {"width": 64, "height": 64, "steps": 2, "seed": 5, "prompt": "a lighthouse"}
TWO_X = "tiny-compact_2x"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    home = Home(tmp_path_factory.mktemp("extras") / "home").ensure()
    populate(home)
    write_pth(home.root / "models/RealESRGAN/RealESRGAN_x4plus.pth", esrgan_state())
    write_safetensors(home.root / "models/ESRGAN" / f"{TWO_X}.safetensors", compact_state(scale=2))
    with running_engine(home, "--model", "tiny.safetensors") as eng:
        yield eng


def _picture(size: tuple[int, int] = (40, 30), parameters: str = "") -> str:
    image = Image.new("RGB", size)
    image.putdata([(x * 6 % 256, y * 8 % 256, 120) for y in range(size[1]) for x in range(size[0])])
    meta = PngInfo()
    if parameters:
        meta.add_text("parameters", parameters)
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=meta)
    return base64.b64encode(buf.getvalue()).decode()


def _extras(engine: Engine, **fields: Any) -> Any:
    return engine.client.post("/sdapi/v1/extra-single-image", json={"image": _picture(), **fields})


def test_upscaler_lists_have_a1111_shapes(engine: Engine) -> None:
    items = engine.client.get("/sdapi/v1/upscalers").json()
    assert [i["name"] for i in items[:3]] == ["None", "Lanczos", "Nearest"]
    assert all(set(i) == {"name", "model_name", "model_path", "model_url", "scale"} for i in items)
    plus = next(i for i in items if i["name"] == "R-ESRGAN 4x+")
    assert plus["model_path"].endswith("RealESRGAN_x4plus.pth") and plus["scale"] == 4
    assert any(i["name"] == TWO_X and i["scale"] == 2 for i in items)
    modes = [m["name"] for m in engine.client.get("/sdapi/v1/latent-upscale-modes").json()]
    assert modes[0] == "Latent" and "Latent (nearest-exact)" in modes
    realesrgan = engine.client.get("/sdapi/v1/realesrgan-models").json()
    assert realesrgan == [{"name": "R-ESRGAN 4x+", "path": plus["model_path"], "scale": 4}]


def test_scale_by_with_a_model_gives_its_size_infotext_and_a_saved_file(engine: Engine) -> None:
    reply = _extras(engine, upscaler_1="R-ESRGAN 4x+", upscaling_resize=4)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["html_info"] == "<p>Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+</p>"
    image = decode_png(body["image"])
    assert image.size == (160, 120)
    assert image.info["postprocessing"] == "Postprocess upscale by: 4, Postprocess upscaler: R-ESRGAN 4x+"
    saved = sorted((engine.home.outputs_dir / "extras-images").glob("*/*.png"))
    assert saved and saved[-1].parent.name.count("-") == 2  # outputs/extras-images/YYYY-MM-DD/
    with Image.open(saved[-1]) as again:
        assert again.size == (160, 120) and "R-ESRGAN 4x+" in again.info["extras"]


def test_scale_to_crops_or_keeps_the_aspect(engine: Engine) -> None:
    crop = _extras(engine, resize_mode=1, upscaling_resize_w=96, upscaling_resize_h=96, upscaler_1=TWO_X).json()
    assert decode_png(crop["image"]).size == (96, 96)
    assert "Postprocess upscale to: 96x96" in crop["html_info"] and "Postprocess crop to: 96x96" in crop["html_info"]
    keep = _extras(engine, resize_mode=1, upscaling_resize_w=96, upscaling_resize_h=96, upscaling_crop=False,
                   upscaler_1="Lanczos").json()
    assert decode_png(keep["image"]).size == (128, 96)  # 40x30 by 3.2: covers 96x96, floored to 8


def test_a_second_upscaler_is_blended_in(engine: Engine) -> None:
    only = decode_png(_extras(engine, upscaler_1="Nearest", upscaling_resize=2).json()["image"])
    other = decode_png(_extras(engine, upscaler_1=TWO_X, upscaling_resize=2).json()["image"])
    body = _extras(engine, upscaler_1="Nearest", upscaler_2=TWO_X, extras_upscaler_2_visibility=0.5,
                   upscaling_resize=2).json()
    mixed = decode_png(body["image"])
    assert "Postprocess upscaler 2: tiny-compact_2x, Postprocess upscaler 2 visibility: 0.5" in body["html_info"]
    x, y = 30, 20
    expected = [(a + b) / 2 for a, b in zip(only.getpixel((x, y)), other.getpixel((x, y)), strict=True)]
    assert all(abs(m - e) <= 1 for m, e in zip(mixed.getpixel((x, y)), expected, strict=True))


def test_upscaler_none_returns_the_picture_and_keeps_its_parameters(engine: Engine) -> None:
    body = engine.client.post("/sdapi/v1/extra-single-image", json={
        "image": _picture(parameters="a cat\nSteps: 3, Seed: 7"), "upscaler_1": "None", "save_images": False}).json()
    image = decode_png(body["image"])
    assert image.size == (40, 30) and body["html_info"] == "<p></p>"
    assert image.info["parameters"] == "a cat\nSteps: 3, Seed: 7"


def test_face_restoration_unknown_fields_and_names_are_refused(engine: Engine) -> None:
    for field in ("gfpgan_visibility", "codeformer_visibility"):
        reply = _extras(engine, **{field: 0.5})
        assert reply.status_code == 422 and reply.json()["field"] == field
        assert "no face restoration" in reply.json()["hint"] and "upscalers" in reply.json()["hint"]
    reply = _extras(engine, upscaling_max_side=100)
    assert reply.status_code == 422 and "upscaling_max_side" in reply.text
    reply = _extras(engine, upscaler_1="4x-UltraSharp")
    assert reply.status_code == 404 and reply.json()["field"] == "upscaler_1"
    reply = _extras(engine, upscaler_1="Lanczos", upscaling_resize=8, image=png_b64(size=(1100, 1100)))
    assert reply.status_code == 422 and reply.json()["field"] == "upscaling_resize"


def test_batch_images_keep_their_names(engine: Engine) -> None:
    reply = engine.client.post("/sdapi/v1/extra-batch-images", json={
        "imageList": [{"data": _picture(), "name": "first.png"}, {"data": _picture((20, 20)), "name": "../second.jpg"}],
        "upscaler_1": "Lanczos", "upscaling_resize": 2})
    assert reply.status_code == 200, reply.text
    sizes = [decode_png(data).size for data in reply.json()["images"]]
    assert sizes == [(80, 56), (40, 40)]
    names = {p.name.split("-", 1)[1] for p in (engine.home.outputs_dir / "extras-images").glob("*/*.png")}
    assert {"first.png", "second.png"} <= names


def test_the_webuiapi_client_upscales(engine: Engine) -> None:
    webuiapi = pytest.importorskip("webuiapi")
    with served(engine) as url:
        port = int(url.rsplit(":", 1)[1])
        api = webuiapi.WebUIApi(host="127.0.0.1", port=port)
        picture = Image.new("RGB", (32, 24), (10, 200, 90))
        result = api.extra_single_image(image=picture, upscaler_1="R-ESRGAN 4x+", upscaling_resize=2)
        assert result.image.size == (64, 48)
        assert "Postprocess upscaler: R-ESRGAN 4x+" in str(result.info)
        batch = api.extra_batch_images(images=[picture, picture], upscaler_1="Nearest", upscaling_resize=2)
        assert [i.size for i in batch.images] == [(64, 48), (64, 48)]
        assert "R-ESRGAN 4x+" in [u["name"] for u in api.get_upscalers()]


def test_hires_fix_with_an_upscaler_model(engine: Engine) -> None:
    reply = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "enable_hr": True, "hr_scale": 2,
                                                          "hr_upscaler": "R-ESRGAN 4x+", "denoising_strength": 0.3})
    assert reply.status_code == 200, reply.text
    assert decode_png(reply.json()["images"][0]).size == (128, 128)
    infotext = json.loads(reply.json()["info"])["infotexts"][0]
    assert "Hires upscale: 2, Hires upscaler: R-ESRGAN 4x+," in infotext
    by_stem = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "enable_hr": True, "hr_upscaler": "realesrgan_x4plus",
                                                            "denoising_strength": 0.3, "save_images": False})
    assert "Hires upscaler: R-ESRGAN 4x+," in json.loads(by_stem.json()["info"])["infotexts"][0]
    unknown = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "enable_hr": True, "hr_upscaler": "SwinIR 4x"})
    assert unknown.status_code == 404 and unknown.json()["field"] == "hr_upscaler"


def test_sd_upscale_repaints_the_upscaled_picture_in_tiles(engine: Engine) -> None:
    request = {**SMALL, "init_images": [_picture((48, 48))], "denoising_strength": 0.3, "script_name": "sd upscale",
               "script_args": [None, 16, "R-ESRGAN 4x+", 2.0]}
    reply = engine.client.post("/sdapi/v1/img2img", json=request)
    assert reply.status_code == 200, reply.text
    assert decode_png(reply.json()["images"][0]).size == (96, 96)  # 48 x 2, repainted as 2x2 tiles of 64
    infotext = json.loads(reply.json()["info"])["infotexts"][0]
    assert "SD upscale overlap: 16, SD upscale upscaler: R-ESRGAN 4x+" in infotext and "Size: 64x64" in infotext
    upscalers = [u["name"] for u in engine.client.get("/sdapi/v1/upscalers").json()]
    by_index = engine.client.post("/sdapi/v1/img2img", json={**request, "save_images": False,
                                                             "script_args": ["", 8, upscalers.index("Lanczos"), 1.5]})
    assert by_index.status_code == 200 and decode_png(by_index.json()["images"][0]).size == (72, 72)


def test_sd_upscale_problems_are_refused(engine: Engine) -> None:
    base = {**SMALL, "init_images": [_picture((48, 48))], "script_name": "sd upscale"}
    txt = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "script_name": "sd upscale"})
    assert txt.status_code == 422 and txt.json()["field"] == "script_name"
    for args, field in (([None, 64, 999, 2.0], "script_args[2]"), ([None, -1, 0, 2.0], "script_args[1]"),
                        ([None, 64, 0, 9.0], "script_args[3]"), ([None, 64, 0, 2.0, "x"], "script_args")):
        reply = engine.client.post("/sdapi/v1/img2img", json={**base, "script_args": args})
        assert reply.status_code == 422 and reply.json()["field"] == field, (args, reply.text)
    other = engine.client.post("/sdapi/v1/img2img", json={**base, "script_name": "x/y/z plot"})
    assert other.status_code == 422 and other.json()["field"] == "script_name"
