"""The A1111 API on a real engine with tiny models: every endpoint's shape and what it does."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from installer.settings import Settings, load_settings, save_settings
from tests.engine.server_helpers import (
    SMALL,
    decode_png,
    output_files,
    png_b64,
    populated_engine,
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with populated_engine(tmp_path_factory, "api") as eng:
        yield eng


def test_txt2img_returns_images_info_and_saves_pngs(engine) -> None:
    before = len(output_files(engine.home))
    r = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "a red cat", "negative_prompt": "blurry",
                                                      "batch_size": 2, "sampler_name": "Euler"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"images", "parameters", "info"}
    assert body["parameters"]["prompt"] == "a red cat" and body["parameters"]["batch_size"] == 2
    info = json.loads(body["info"])
    assert info["all_seeds"] == [11, 12] and info["seed"] == 11
    assert info["sd_model_name"] == "tiny" and len(info["sd_model_hash"]) == 10
    assert info["sampler_name"] == "Euler" and info["width"] == 64 and len(info["infotexts"]) == 2
    assert info["infotexts"][0].startswith("a red cat\nNegative prompt: blurry\nSteps: 2, Sampler: Euler")
    images = [decode_png(b) for b in body["images"]]
    assert [im.size for im in images] == [(64, 64), (64, 64)]
    assert images[0].info["parameters"] == info["infotexts"][0]
    saved = output_files(engine.home)
    assert len(saved) == before + 2
    with Image.open(saved[-1]) as im:
        assert im.info["parameters"] == info["infotexts"][1]
    assert saved[-1].name.endswith("-12.png")


def test_seed_is_repeatable_and_minus_one_is_random(engine) -> None:
    a = engine.client.post("/sdapi/v1/txt2img", json=SMALL).json()
    b = engine.client.post("/sdapi/v1/txt2img", json=SMALL).json()
    assert a["images"] == b["images"]
    rand = json.loads(engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "seed": -1}).json()["info"])
    assert rand["seed"] >= 0 and rand["seed"] != -1


def test_send_and_save_flags(engine) -> None:
    before = len(output_files(engine.home))
    r = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "send_images": False, "save_images": False})
    assert r.status_code == 200 and r.json()["images"] == []
    assert len(output_files(engine.home)) == before


def test_img2img_and_inpaint_mask(engine) -> None:
    req = {**SMALL, "init_images": [png_b64("blue")], "denoising_strength": 0.5}
    r = engine.client.post("/sdapi/v1/img2img", json=req)
    assert r.status_code == 200, r.text
    info = json.loads(r.json()["info"])
    assert info["denoising_strength"] == 0.5 and "Denoising strength: 0.5" in info["infotexts"][0]
    assert output_files(engine.home, "img2img")
    masked = engine.client.post("/sdapi/v1/img2img", json={**req, "mask": png_b64("white", mode="L"), "mask_blur": 2})
    assert masked.status_code == 200, masked.text
    assert decode_png(masked.json()["images"][0]).size == (64, 64)


def test_lora_tag_in_prompt(engine) -> None:
    plain = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "a cat"}).json()
    zero = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "a cat <lora:detail:0>"}).json()
    full = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "a cat <lora:detail:1>"}).json()
    pixels = [decode_png(r["images"][0]).tobytes() for r in (plain, zero, full)]
    assert pixels[1] == pixels[0]  # weight 0 gives the base image
    assert pixels[2] != pixels[0]
    assert "Lora hashes: \"detail: " in json.loads(full["info"])["infotexts"][0]


def test_listings(engine) -> None:
    c = engine.client
    models = c.get("/sdapi/v1/sd-models").json()
    assert {m["model_name"] for m in models} == {"tiny", "other/tiny2"}
    assert set(models[0]) == {"title", "model_name", "hash", "sha256", "filename", "config"}
    assert c.get("/sdapi/v1/sd-vae").json() == [
        {"model_name": "tinyvae.safetensors", "filename": str(engine.home.models_dir("vae") / "tinyvae.safetensors")}]
    loras = c.get("/sdapi/v1/loras").json()
    assert [(x["name"], x["alias"]) for x in loras] == [("detail", "detail")] and loras[0]["path"].endswith("detail.safetensors")
    samplers = c.get("/sdapi/v1/samplers").json()
    assert {"Euler a", "Euler", "DPM++ 2M", "DDIM", "UniPC", "LCM"} <= {s["name"] for s in samplers}
    assert all(set(s) == {"name", "aliases", "options"} for s in samplers)
    schedulers = c.get("/sdapi/v1/schedulers").json()
    assert {"Automatic", "Karras", "Exponential"} <= {s["label"] for s in schedulers}


def test_options_switch_model_vae_and_clip_skip(engine) -> None:
    c = engine.client
    opts = c.get("/sdapi/v1/options").json()
    assert opts["sd_model_checkpoint"].startswith("tiny.safetensors [")
    assert opts["sd_vae"] == "Automatic" and opts["CLIP_stop_at_last_layers"] == 1
    first = c.post("/sdapi/v1/txt2img", json=SMALL).json()["images"]
    try:
        assert c.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny2", "CLIP_stop_at_last_layers": 2,
                                                 "sd_vae": "tinyvae.safetensors"}).status_code == 200
        opts = c.get("/sdapi/v1/options").json()
        assert opts["sd_model_checkpoint"].startswith("other/tiny2.safetensors [")
        assert (opts["CLIP_stop_at_last_layers"], opts["sd_vae"]) == (2, "tinyvae.safetensors")
        info = json.loads(c.post("/sdapi/v1/txt2img", json=SMALL).json()["info"])
        assert info["sd_model_name"] == "other/tiny2" and info["clip_skip"] == 2
        assert info["sd_vae_name"] == "tinyvae.safetensors" and "Clip skip: 2" in info["infotexts"][0]
    finally:
        c.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny.safetensors", "CLIP_stop_at_last_layers": 1,
                                          "sd_vae": "Automatic"})
    assert c.post("/sdapi/v1/txt2img", json=SMALL).json()["images"] == first


def test_chosen_checkpoint_is_kept_in_settings_for_the_next_start(engine) -> None:
    from tests.engine.server_helpers import config_for

    path = engine.home.settings_file
    save_settings(path, Settings(language="zh", port=7861))
    c = engine.client
    try:
        assert c.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny2"}).status_code == 200
        kept = load_settings(path)
        assert kept.problems == [] and kept.settings.model == "other/tiny2.safetensors"
        assert (kept.settings.language, kept.settings.port) == ("zh", 7861)  # the rest left as it was
        assert config_for(engine.home).model == "other/tiny2.safetensors"  # what the next start loads
        assert c.post("/sdapi/v1/options", json={"sd_model_checkpoint": "nope"}).status_code == 404
        assert load_settings(path).settings.model == "other/tiny2.safetensors"  # a failed switch changes nothing
    finally:
        c.post("/sdapi/v1/options", json={"sd_model_checkpoint": "tiny.safetensors"})
    assert load_settings(path).settings.model == "tiny.safetensors"
    assert not list(path.parent.glob(".settings.json.*"))  # written atomically, no temporary left


def test_override_settings_apply_to_one_request(engine) -> None:
    c = engine.client
    r = c.post("/sdapi/v1/txt2img", json={**SMALL, "override_settings": {"sd_model_checkpoint": "tiny2"}})
    assert json.loads(r.json()["info"])["sd_model_name"] == "other/tiny2"
    assert json.loads(c.post("/sdapi/v1/txt2img", json=SMALL).json()["info"])["sd_model_name"] == "tiny"


def test_broken_checkpoint_switch_keeps_the_current_model(engine) -> None:
    c = engine.client
    broken = engine.home.models_dir("checkpoint") / "broken.safetensors"
    good = engine.home.models_dir("checkpoint") / "tiny.safetensors"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    try:
        c.post("/sdapi/v1/refresh-checkpoints")
        r = c.post("/sdapi/v1/options", json={"sd_model_checkpoint": "broken.safetensors"})
        assert 400 <= r.status_code < 500 and "broken" in r.json()["detail"]
        assert c.get("/sdapi/v1/options").json()["sd_model_checkpoint"].startswith("tiny.safetensors")
        assert c.post("/sdapi/v1/txt2img", json=SMALL).status_code == 200
    finally:
        broken.unlink()
        c.post("/sdapi/v1/refresh-checkpoints")


def test_refresh_finds_new_files(engine) -> None:
    c = engine.client
    extra = engine.home.models_dir("lora") / "fresh.safetensors"
    extra.write_bytes((engine.home.models_dir("lora") / "detail.safetensors").read_bytes())
    try:
        assert "fresh" not in {x["name"] for x in c.get("/sdapi/v1/loras").json()}
        assert c.post("/sdapi/v1/refresh-loras").status_code == 200
        assert "fresh" in {x["name"] for x in c.get("/sdapi/v1/loras").json()}
    finally:
        extra.unlink()
        c.post("/sdapi/v1/refresh-loras")


def test_png_info_reads_the_infotext(engine) -> None:
    img = engine.client.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "a dog"}).json()["images"][0]
    r = engine.client.post("/sdapi/v1/png-info", json={"image": "data:image/png;base64," + img})
    assert r.status_code == 200
    body = r.json()
    assert body["info"].startswith("a dog\nSteps: 2")
    assert body["parameters"]["Prompt"] == "a dog" and body["parameters"]["Seed"] == "11"
    plain = engine.client.post("/sdapi/v1/png-info", json={"image": png_b64()}).json()
    assert plain["info"] == "" and plain["parameters"] == {}


def test_progress_memory_interrupt_skip_when_idle(engine) -> None:
    c = engine.client
    p = c.get("/sdapi/v1/progress").json()
    assert set(p) == {"progress", "eta_relative", "state", "current_image", "textinfo"}
    assert p["progress"] == 0 and p["state"]["job"] == "" and p["current_image"] is None
    assert {"job_count", "job_no", "sampling_step", "sampling_steps", "interrupted", "skipped"} <= set(p["state"])
    mem = c.get("/sdapi/v1/memory").json()
    assert mem["ram"]["total"] > 0 and mem["cuda"] == {"error": "unavailable"}
    assert c.post("/sdapi/v1/interrupt").status_code == 200
    assert c.post("/sdapi/v1/skip").status_code == 200
    assert c.post("/sdapi/v1/txt2img", json=SMALL).status_code == 200  # nothing carried over


def test_openapi_docs(engine) -> None:
    assert engine.client.get("/docs").status_code == 200
    paths = engine.client.get("/openapi.json").json()["paths"]
    assert "/sdapi/v1/txt2img" in paths and "/maple/v1/ready" in paths


def test_hires_fix_by_scale_and_by_target_size(engine) -> None:
    c = engine.client
    r = c.post("/sdapi/v1/txt2img", json={**SMALL, "enable_hr": True, "hr_scale": 1.5, "denoising_strength": 0.5})
    assert r.status_code == 200, r.text
    assert decode_png(r.json()["images"][0]).size == (96, 96)
    r = c.post("/sdapi/v1/txt2img", json={**SMALL, "enable_hr": True, "hr_resize_x": 128, "hr_resize_y": 128})
    assert decode_png(r.json()["images"][0]).size == (128, 128)
    assert "Hires upscale: 2" in json.loads(r.json()["info"])["infotexts"][0]
