"""Bad input is a 4xx whose message names the field (and lists what exists); nothing crashes the engine."""

from __future__ import annotations

import pytest

from tests.engine.server_helpers import SMALL, png_b64, populated_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with populated_engine(tmp_path_factory, "validation") as eng:
        yield eng


def refused(engine, path: str, body, status: int = 422) -> str:
    r = engine.client.post(path, json=body)
    assert r.status_code == status, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert isinstance(detail, str)
    return detail


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"width": 65}, "width", "multiple of 8"),
    ({"height": 100}, "height", "multiple of 8"),
    ({"width": 4096}, "width", "2048"),
    ({"height": 32}, "height", "64"),
    ({"steps": 0}, "steps", "1"),
    ({"steps": 500}, "steps", "150"),
    ({"cfg_scale": 0.5}, "cfg_scale", "1"),
    ({"cfg_scale": 99}, "cfg_scale", "30"),
    ({"batch_size": 64}, "batch_size", "8"),
    ({"batch_size": 8, "n_iter": 50}, "n_iter", "400"),
    ({"width": "wide"}, "width", "integer"),
    ({"seed": -5}, "seed", "-1"),
    ({"enable_hr": True, "width": 1024, "hr_scale": 4}, "hr_scale", "2048"),
])
def test_out_of_range_fields(engine, changes, field, words) -> None:
    detail = refused(engine, "/sdapi/v1/txt2img", {**SMALL, **changes})
    assert detail.startswith(f"{field}:") and words in detail


def test_unknown_sampler_and_schedule_list_the_known_ones(engine) -> None:
    detail = refused(engine, "/sdapi/v1/txt2img", {**SMALL, "sampler_name": "Euler z"})
    assert detail.startswith("sampler_name:") and "Euler a" in detail and "DPM++ 2M" in detail
    detail = refused(engine, "/sdapi/v1/txt2img", {**SMALL, "scheduler": "Wobbly"})
    assert detail.startswith("scheduler:") and "Karras" in detail


def test_unknown_model_vae_lora_list_what_exists(engine) -> None:
    detail = refused(engine, "/sdapi/v1/options", {"sd_model_checkpoint": "nope.safetensors"}, 404)
    assert detail.startswith("sd_model_checkpoint:") and "tiny.safetensors" in detail
    detail = refused(engine, "/sdapi/v1/options", {"sd_vae": "nope.pt"}, 404)
    assert detail.startswith("sd_vae:") and "tinyvae.safetensors" in detail
    detail = refused(engine, "/sdapi/v1/txt2img", {**SMALL, "prompt": "x <lora:nope:1>"}, 404)
    assert "nope" in detail and "detail" in detail
    detail = refused(engine, "/sdapi/v1/txt2img", {**SMALL, "override_settings": {"sd_model_checkpoint": "gone"}}, 404)
    assert detail.startswith("override_settings.sd_model_checkpoint:") and "tiny" in detail
    detail = refused(engine, "/sdapi/v1/options", {"CLIP_stop_at_last_layers": 0})
    assert detail.startswith("CLIP_stop_at_last_layers:")


@pytest.mark.parametrize(("path", "body", "folder"), [
    ("/sdapi/v1/txt2img", {**SMALL, "prompt": "x <lora:nope:1>"}, "models/Lora"),
    ("/sdapi/v1/options", {"sd_vae": "nope.pt"}, "models/VAE"),
    ("/sdapi/v1/options", {"sd_model_checkpoint": "nope.safetensors"}, "models/Stable-diffusion"),
])
def test_missing_file_hint_names_its_own_folder(engine, path, body, folder) -> None:
    r = engine.client.post(path, json=body)
    assert r.status_code == 404, r.text
    hint = r.json()["hint"]
    assert folder in hint and (folder == "models/Stable-diffusion" or "Stable-diffusion" not in hint)


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\system.ini", "a/../../b"])
def test_names_that_leave_the_model_folders(engine, name) -> None:
    r = engine.client.post("/sdapi/v1/options", json={"sd_model_checkpoint": name})
    assert r.status_code == 422 and r.json()["error"] == "unsafe-name"
    assert r.json()["detail"].startswith("sd_model_checkpoint:")
    r = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": f"x <lora:{name}:1>"})
    if ":" in name:  # "<lora:C:\\...>" names a LoRA "C", which does not exist
        assert r.status_code == 404
    else:
        assert r.status_code == 422 and r.json()["error"] == "unsafe-name"
    r = engine.client.post("/sdapi/v1/options", json={"sd_vae": name})
    assert r.status_code == 422


def test_bad_images(engine) -> None:
    detail = refused(engine, "/sdapi/v1/img2img", {**SMALL, "init_images": ["not base64!!"]})
    assert detail.startswith("init_images[0]:") and "base64" in detail
    detail = refused(engine, "/sdapi/v1/img2img", {**SMALL, "init_images": [png_b64(), "aGVsbG8="]})
    assert detail.startswith("init_images[1]:") and "image" in detail
    detail = refused(engine, "/sdapi/v1/img2img", {**SMALL, "init_images": []})
    assert detail.startswith("init_images:")
    detail = refused(engine, "/sdapi/v1/img2img", {**SMALL, "init_images": [png_b64()], "mask": "%%%"})
    assert detail.startswith("mask:")
    assert refused(engine, "/sdapi/v1/png-info", {"image": "zzz"}).startswith("image:")


def test_outputs_date_and_paths(engine) -> None:
    assert engine.client.get("/maple/v1/outputs", params={"date": "../../x"}).status_code == 422
    assert engine.client.get("/outputs/../settings.json").status_code == 404
    assert engine.client.get("/outputs/txt2img-images/%2e%2e/%2e%2e/settings.json").status_code == 404


JUNK = [None, [], "text", 12, {"prompt": {"x": 1}}, {"steps": None}, {"init_images": [None]},
        {"override_settings": "no"}, {"sd_model_checkpoint": 5}, {"image": 5}, {"prompt": "\x00" * 10}]
POSTS = ["/sdapi/v1/txt2img", "/sdapi/v1/img2img", "/sdapi/v1/options", "/sdapi/v1/png-info",
         "/maple/v1/token-count"]


def test_junk_never_crashes_the_engine(engine) -> None:
    for path in POSTS:
        for junk in JUNK:
            # valid generation requests stay small: junk keys alone would ask for a 512x512 image
            body = {**SMALL, **junk} if isinstance(junk, dict) and "img" in path else junk
            r = engine.client.post(path, json=body)
            assert r.status_code < 500 or r.status_code == 200, (path, body, r.status_code, r.text)
        r = engine.client.post(path, content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
    assert engine.client.post("/sdapi/v1/txt2img", json=SMALL).status_code == 200


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/sdapi/v1/txt2img", {**SMALL, "width": 65}, 422, "width"),
    ("/sdapi/v1/txt2img", {**SMALL, "sampler_name": "Euler z"}, 422, "sampler_name"),
    ("/sdapi/v1/txt2img", {**SMALL, "prompt": "x <lora:nope:1>"}, 404, "prompt"),
    ("/sdapi/v1/txt2img", {**SMALL, "negative_prompt": "x <lora:nope:1>"}, 404, "negative_prompt"),
    ("/sdapi/v1/txt2img", {**SMALL, "override_settings": {"sd_model_checkpoint": "gone"}}, 404,
     "override_settings.sd_model_checkpoint"),
    ("/sdapi/v1/img2img", {**SMALL, "init_images": [png_b64(), "aGVsbG8="]}, 422, "init_images[1]"),
    ("/sdapi/v1/options", {"sd_vae": "nope.pt"}, 404, "sd_vae"),
    ("/sdapi/v1/options", {"sd_model_checkpoint": "../../etc/passwd"}, 422, "sd_model_checkpoint"),
    ("/sdapi/v1/options", {"CLIP_stop_at_last_layers": 0}, 422, "CLIP_stop_at_last_layers"),
])
def test_error_json_names_the_field_as_data(engine, path, body, status, field) -> None:
    r = engine.client.post(path, json=body)
    assert r.status_code == status, r.text
    reply = r.json()
    assert reply["field"] == field and reply["detail"].startswith(f"{field}:")
    assert {"error", "detail", "hint", "field"} <= set(reply)


def test_an_error_about_no_field_says_null(engine) -> None:
    r = engine.client.post("/sdapi/v1/png-info", json=[])
    assert r.status_code == 422 and r.json()["field"] is None
