"""The ControlNet extension's API on a real engine: routes, units in alwayson_scripts, webuiapi's shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from installer.home import Home
from installer.store.model_store import ModelStore
from tests.engine.server_helpers import (
    SMALL,
    Engine,
    decode_png,
    output_files,
    png_b64,
    populate,
    running_engine,
    served,
)
from tests.engine.tinycontrolnets import write_tiny_controlnet


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    home = Home(tmp_path_factory.mktemp("cn-api") / "home").ensure()
    populate(home)
    write_tiny_controlnet(home.root / "models" / "ControlNet" / "control_v11p_sd15_canny.safetensors")
    write_tiny_controlnet(home.root / "models" / "ControlNet" / "control_v11p_sd15_lineart.pth")
    write_tiny_controlnet(home.root / "models" / "ControlNet" / "controlnet_sdxl_depth.safetensors", "sdxl")
    with running_engine(home, "--model", "tiny.safetensors") as eng:
        yield eng


def square_b64(size: int = 64) -> str:
    import base64
    import io

    image = Image.new("RGB", (size, size), "black")
    image.paste((255, 255, 255), (size // 4, size // 4, 3 * size // 4, 3 * size // 4))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def cn_unit(**kw: Any) -> dict[str, Any]:
    return {"module": "canny", "model": "control_v11p_sd15_canny", "image": square_b64(),
            "threshold_a": 100, "threshold_b": 200, **kw}


def stripes_b64(size: int = 64) -> str:
    import base64
    import io

    image = Image.new("RGB", (size, size), "black")
    for x in range(0, size, 8):
        image.paste((255, 255, 255), (x, 0, x + 4, size))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def txt2img(engine: Engine, *units: dict[str, Any], script: str = "controlnet", **kw: Any) -> Any:
    body = {**SMALL, "prompt": "a cat", "alwayson_scripts": {script: {"args": list(units)}}, **kw}
    return engine.client.post("/sdapi/v1/txt2img", json=body)


def test_store_lists_controlnets_as_their_own_kind(tmp_path: Any) -> None:
    home = Home(tmp_path / "home").ensure()
    a1111 = tmp_path / "aki"
    (a1111 / "models").mkdir(parents=True)
    write_tiny_controlnet(home.root / "models" / "ControlNet" / "control_v11p_sd15_canny.safetensors")
    write_tiny_controlnet(a1111 / "extensions" / "sd-webui-controlnet" / "models" / "control_v11p_sd15_tile.pth")
    write_tiny_controlnet(a1111 / "models" / "ControlNet" / "controlnet_sdxl.safetensors", "sdxl")
    found = {e.name: (e.kind, e.arch) for e in ModelStore(home, [str(a1111)]).scan()}
    assert found["control_v11p_sd15_canny.safetensors"] == ("controlnet", "sd1")
    assert found["control_v11p_sd15_tile.pth"][0] == "controlnet"
    assert found["controlnet_sdxl.safetensors"] == ("controlnet", "sdxl")


def test_lists_and_settings(engine: Engine) -> None:
    c = engine.client
    assert c.get("/controlnet/version").json() == {"version": 2}
    models = c.get("/controlnet/model_list").json()["model_list"]
    assert {m.split(" [")[0] for m in models} == {"control_v11p_sd15_canny", "control_v11p_sd15_lineart",
                                                  "controlnet_sdxl_depth"}
    modules = c.get("/controlnet/module_list").json()
    assert {"none", "canny", "tile_resample", "inpaint_only"} <= set(modules["module_list"])
    assert [s["name"] for s in modules["module_detail"]["canny"]["sliders"]] == [
        "Preprocessor Resolution", "Canny Low Threshold", "Canny High Threshold"]
    types = c.get("/controlnet/control_types").json()["control_types"]
    assert types["Canny"]["module_list"] == ["none", "canny"]
    assert [m.split(" [")[0] for m in types["Canny"]["model_list"]] == ["None", "control_v11p_sd15_canny"]
    assert [m.split(" [")[0] for m in types["Depth"]["model_list"]] == ["None", "controlnet_sdxl_depth"]
    assert c.get("/controlnet/settings").json()["control_net_unit_count"] == 3


def test_detect_returns_maps_of_the_right_size(engine: Engine) -> None:
    r = engine.client.post("/controlnet/detect", json={
        "controlnet_module": "canny", "controlnet_input_images": [square_b64(64), png_b64(size=(96, 48))],
        "controlnet_processor_res": 128, "controlnet_threshold_a": 100, "controlnet_threshold_b": 200})
    assert r.status_code == 200, r.text
    maps = [decode_png(d) for d in r.json()["images"]]
    assert [m.size for m in maps] == [(128, 128), (256, 128)]
    edges = np.asarray(maps[0])[..., 0] > 0
    assert edges[30:34, 62:66].any() and not edges[60:68, 60:68].any()  # the square's border, not its inside
    r = engine.client.post("/controlnet/detect", json={"controlnet_module": "dw_openpose_full",
                                                       "controlnet_input_images": [square_b64()]})
    assert r.status_code == 422 and "dw_openpose_full" in r.json()["detail"]
    r = engine.client.post("/controlnet/detect", json={"controlnet_module": "lineart",
                                                       "controlnet_input_images": [square_b64()]})
    assert r.status_code == 422 and "sk_model.pth" in r.json()["detail"]
    assert "models/ControlNetPreprocessor/lineart/sk_model.pth" in r.json()["hint"]


def test_txt2img_with_units_the_detected_map_and_infotext(engine: Engine) -> None:
    plain = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "a cat"}).json()
    r = txt2img(engine, cn_unit(processor_res=64), cn_unit(enabled=False), script="ControlNet")
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["images"]) == 2  # the picture, then the unit's detected map
    assert decode_png(body["images"][1]).size == (64, 64)
    assert not np.array_equal(np.asarray(decode_png(body["images"][0])), np.asarray(decode_png(plain["images"][0])))
    infotext = json.loads(body["info"])["infotexts"][0]
    assert 'ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny [' in infotext
    assert "ControlNet 1" not in infotext
    zero = txt2img(engine, cn_unit(weight=0)).json()
    assert len(zero["images"]) == 1  # weight 0: the picture without ControlNet, and no map
    assert np.array_equal(np.asarray(decode_png(zero["images"][0])), np.asarray(decode_png(plain["images"][0])))


@pytest.mark.parametrize(("unit", "field"), [
    (cn_unit(advanced_weighting=[0.5] * 13), "advanced_weighting"),
    (cn_unit(batch_images="some/folder"), "batch_images"),
    (cn_unit(foo_bar=1), "foo_bar"),
    (cn_unit(model="None"), "model"),
    (cn_unit(model="not_there"), "model"),
    (cn_unit(resize_mode="Stretch"), "resize_mode"),
    (cn_unit(control_mode=7), "control_mode"),
    (cn_unit(module="depth_leres"), "module"),
    (cn_unit(weight=3), "weight"),
    (cn_unit(image=""), "image"),
])
def test_unsupported_unit_fields_are_refused_naming_them(engine: Engine, unit: dict[str, Any], field: str) -> None:
    r = txt2img(engine, unit)
    assert r.status_code in (404, 422), r.text
    assert r.json()["field"] == f"alwayson_scripts.controlnet.args[0].{field}"


def test_legacy_aliases_and_img2img(engine: Engine) -> None:
    legacy = cn_unit(image=None, input_image=square_b64(), lowvram=True, guidance=0.5, resize_mode=0,
                     control_mode=1, module="none")
    assert txt2img(engine, legacy).status_code == 200
    body = {**SMALL, "prompt": "a cat", "init_images": [png_b64("red")], "denoising_strength": 0.6,
            "alwayson_scripts": {"controlnet": {"args": [cn_unit(image="", module="tile_resample")]}}}
    r = engine.client.post("/sdapi/v1/img2img", json=body)
    assert r.status_code == 200, r.text
    assert len(r.json()["images"]) == 2


def test_an_sdxl_controlnet_on_an_sd1_checkpoint_is_a_clear_error(engine: Engine) -> None:
    r = txt2img(engine, cn_unit(model="controlnet_sdxl_depth"))
    assert r.status_code == 400
    assert "SDXL ControlNet; the loaded checkpoint is SD1.5" in r.json()["detail"]


def test_webuiapi_controlnet_unit(engine: Engine) -> None:
    webuiapi = pytest.importorskip("webuiapi")
    with served(engine) as url:
        port = urlparse(url).port
        api = webuiapi.WebUIApi(host="127.0.0.1", port=port, sampler="Euler", steps=2)
        square = decode_png(square_b64())
        assert "control_v11p_sd15_canny" in " ".join(api.controlnet_model_list())
        assert "canny" in api.controlnet_module_list()
        unit = webuiapi.ControlNetUnit(image=square, module="canny", model="control_v11p_sd15_canny",
                                       threshold_a=100, threshold_b=200, processor_res=64, control_mode=2,
                                       resize_mode="Crop and Resize", pixel_perfect=True)
        result = api.txt2img(prompt="a cat", width=64, height=64, seed=3, cfg_scale=5, controlnet_units=[unit])
        assert len(result.images) == 2
        assert "Control Mode: ControlNet is more important" in result.info["infotexts"][0]
        detected = api.controlnet_detect([square], module="canny", processor_res=64)
        assert [image.size for image in detected.images] == [(64, 64)]


def test_scripts_list_names_controlnet(engine: Engine) -> None:
    scripts = engine.client.get("/sdapi/v1/scripts").json()
    assert "controlnet" in scripts["txt2img"] and "controlnet" in scripts["img2img"]


def test_a_unit_given_a_list_of_pictures_guides_each_picture_of_the_batch(engine: Engine) -> None:
    pictures = [square_b64(), {"image": stripes_b64(), "mask": None}]
    r = txt2img(engine, cn_unit(image=pictures, processor_res=64), batch_size=2)
    assert r.status_code == 200, r.text
    images = [decode_png(d) for d in r.json()["images"]]
    assert len(images) == 4  # the batch's two pictures, then a map per unit picture
    assert not np.array_equal(np.asarray(images[2]), np.asarray(images[3]))
    one = txt2img(engine, cn_unit(image=[square_b64()], processor_res=64), batch_size=2)
    assert one.status_code == 200 and len(one.json()["images"]) == 3  # one picture guides both
    too_many = txt2img(engine, cn_unit(image=[square_b64()] * 3), batch_size=2)
    assert too_many.status_code == 422 and too_many.json()["field"] == "alwayson_scripts.controlnet.args[0].image"
    assert "3 pictures for a batch of 2" in too_many.json()["detail"]
    empty = txt2img(engine, cn_unit(image=[square_b64(), ""]), batch_size=2)
    assert empty.status_code == 422 and empty.json()["field"] == "alwayson_scripts.controlnet.args[0].image[1]"
    reference = txt2img(engine, cn_unit(image=[square_b64()] * 2, module="reference_only", model="None"), batch_size=2)
    assert reference.status_code == 422 and "takes one picture" in reference.json()["detail"]


def test_detected_maps_are_saved_next_to_the_pictures_unless_told_not_to(engine: Engine) -> None:
    before = set(output_files(engine.home))
    r = txt2img(engine, cn_unit(processor_res=64))
    assert r.status_code == 200, r.text
    new = sorted(set(output_files(engine.home)) - before)
    assert [p.name.endswith("-canny.png") for p in new] == [False, True] and new[0].parent == new[1].parent
    saved = np.asarray(Image.open(new[1]).convert("RGB"))
    assert np.array_equal(saved, np.asarray(decode_png(r.json()["images"][1]).convert("RGB")))
    before = set(output_files(engine.home))
    kept_out = txt2img(engine, cn_unit(processor_res=64, save_detected_map=False))
    assert kept_out.status_code == 200 and len(kept_out.json()["images"]) == 1
    assert [p.name.endswith("-canny.png") for p in set(output_files(engine.home)) - before] == [False]
    before = set(output_files(engine.home))
    unsaved = txt2img(engine, cn_unit(processor_res=64), save_images=False)
    assert len(unsaved.json()["images"]) == 2 and set(output_files(engine.home)) == before
