"""Existing A1111 clients work unchanged: a real engine process driven only through ``webuiapi``."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from installer.home import Home
from tests.conftest import free_port
from tests.engine.server_helpers import populate
from tests.engine.test_startup import STARTUP_LINE, EngineProcess

webuiapi = pytest.importorskip("webuiapi")

SMALL: dict[str, Any] = {"width": 64, "height": 64, "steps": 2, "cfg_scale": 5.0, "sampler_name": "Euler"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = Home(tmp_path_factory.mktemp("a1111-client-home"))
    home.ensure()
    populate(home)
    port = free_port()
    engine = EngineProcess(home, "--port", str(port), "--model", "tiny.safetensors")
    try:
        engine.wait_line(STARTUP_LINE, timeout=240)
        yield webuiapi.WebUIApi(host="127.0.0.1", port=port, sampler="Euler", steps=2)
    finally:
        engine.proc.terminate()
        if engine.exit_code(20) is None:
            engine.kill()


def test_txt2img_batch_gives_seed_and_seed_plus_one(api: Any) -> None:
    result = api.txt2img(prompt="a red fox", negative_prompt="blurry", seed=1234, batch_size=2, **SMALL)
    assert len(result.images) == 2
    assert all(img.size == (64, 64) for img in result.images)
    assert result.info["seed"] == 1234
    assert result.info["all_seeds"] == [1234, 1235]
    texts = result.info["infotexts"]
    assert len(texts) == 2
    assert texts[0].startswith("a red fox\nNegative prompt: blurry\nSteps: 2, Sampler: Euler")
    assert "Seed: 1234," in texts[0] and "Seed: 1235," in texts[1]
    assert "Size: 64x64" in texts[0]
    assert result.parameters["prompt"] == "a red fox"


def test_same_seed_same_image(api: Any) -> None:
    first = api.txt2img(prompt="a cat", seed=77, **SMALL).image
    again = api.txt2img(prompt="a cat", seed=77, **SMALL).image
    other = api.txt2img(prompt="a cat", seed=78, **SMALL).image
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_img2img_with_init_image_and_mask(api: Any) -> None:
    init = Image.new("RGB", (64, 64), "blue")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    result = api.img2img(images=[init], mask_image=mask, denoising_strength=0.8, prompt="a hat", seed=5,
                         inpainting_fill=1, mask_blur=2, **SMALL)
    assert result.image.size == (64, 64)
    assert result.info["seed"] == 5
    assert "Denoising strength: 0.8" in result.info["infotexts"][0]
    # Outside the mask the init image is kept, inside it the model drew something else.
    pixels = result.image.convert("RGB")
    assert pixels.getpixel((2, 2)) == (0, 0, 255)
    assert pixels.getpixel((32, 32)) != (0, 0, 255)


def test_models_samplers_schedulers_loras(api: Any) -> None:
    models = api.get_sd_models()
    titles = [m["title"] for m in models]
    assert any(t.startswith("tiny.safetensors [") for t in titles), titles
    assert any("tiny2" in t for t in titles), titles
    assert {"title", "model_name", "hash", "sha256", "filename", "config"} <= set(models[0])
    samplers = [s["name"] for s in api.get_samplers()]
    assert {"Euler a", "Euler", "DPM++ 2M"} <= set(samplers)
    assert api.util_get_sampler_names() == sorted(samplers)
    schedulers = api.get_schedulers()
    assert schedulers and {"name", "label"} <= set(schedulers[0])
    assert "Karras" in api.util_get_scheduler_names() or "karras" in api.util_get_scheduler_names()
    loras = api.get_loras()
    assert [lo["name"] for lo in loras] == ["detail"]
    assert {"name", "alias", "path", "metadata"} <= set(loras[0])
    assert [v["model_name"] for v in api.get_sd_vae()] == ["tinyvae.safetensors"]


def test_options_switch_checkpoint_and_vae(api: Any) -> None:
    names = api.util_get_model_names()
    second = next(t for t in (m["title"] for m in api.get_sd_models()) if "tiny2" in t)
    before = api.txt2img(prompt="a boat", seed=3, **SMALL).image
    api.set_options({"sd_model_checkpoint": second})
    assert "tiny2" in api.get_options()["sd_model_checkpoint"]
    assert "tiny2" in api.util_get_current_model()
    after = api.txt2img(prompt="a boat", seed=3, **SMALL)
    assert after.image.tobytes() != before.tobytes()
    assert "tiny2" in after.info["sd_model_name"]
    api.set_options({"sd_vae": "tinyvae.safetensors"})
    assert api.get_options()["sd_vae"] == "tinyvae.safetensors"
    with_vae = api.txt2img(prompt="a boat", seed=3, **SMALL)
    assert "VAE: tinyvae" in with_vae.info["infotexts"][0]
    api.set_options({"sd_vae": "Automatic"})
    api.util_set_model("tiny.safetensors", find_closest=True)
    assert api.util_get_current_model().startswith("tiny.safetensors")
    # Titles gain their " [hash]" once a file is hashed, as in A1111; the names stay the same.
    assert [n.split(" [")[0] for n in names] == [n.split(" [")[0] for n in api.util_get_model_names()]


def test_refresh_checkpoints_finds_a_new_file(api: Any) -> None:
    first = next(m for m in api.get_sd_models() if m["title"].startswith("tiny.safetensors"))
    source = Path(first["filename"])
    shutil.copy(source, source.with_name("tiny3.safetensors"))
    assert not any(m["model_name"] == "tiny3" for m in api.get_sd_models())
    api.refresh_checkpoints()
    assert any(m["model_name"] == "tiny3" for m in api.get_sd_models())


def test_png_info_round_trip(api: Any) -> None:
    made = api.txt2img(prompt="a lighthouse", seed=99, save_images=True, **SMALL)
    text = made.info["infotexts"][0]
    image = made.image
    image.info["parameters"] = text  # webuiapi writes the image's text chunks into the PNG it sends
    back = api.png_info(image)
    assert back.info == text
    assert back.json["parameters"]["Prompt"] == "a lighthouse"
    assert back.json["parameters"]["Seed"] in (99, "99")


def test_progress_and_interrupt(api: Any) -> None:
    done: dict[str, Any] = {}

    def long_job() -> None:
        done["result"] = api.txt2img(prompt="slow", seed=1, n_iter=4, **{**SMALL, "steps": 150})

    worker = threading.Thread(target=long_job)
    worker.start()
    deadline = time.monotonic() + 60
    progress: dict[str, Any] = {}
    while time.monotonic() < deadline:
        progress = api.get_progress()
        if progress["state"]["sampling_step"] >= 1:
            break
        time.sleep(0.05)
    assert {"progress", "eta_relative", "state", "current_image", "textinfo"} <= set(progress)
    assert progress["state"]["sampling_steps"] == 150
    assert 0 < progress["progress"] < 1
    api.interrupt()
    worker.join(60)
    assert not worker.is_alive()
    assert done["result"].images, "an interrupted job still returns what it had"
    assert len(done["result"].images) < 4 and done["result"].info["interrupted"] is True
    assert api.get_progress()["state"]["job_count"] == 0


def test_hires_fix_memory_and_wait_for_ready(api: Any) -> None:
    result = api.txt2img(prompt="a hill", seed=8, enable_hr=True, hr_scale=2, hr_second_pass_steps=1,
                         denoising_strength=0.5, **SMALL)
    assert result.image.size == (128, 128)
    assert "Hires upscale: 2" in result.info["infotexts"][0]
    memory = api.get_memory()
    assert {"ram", "cuda"} <= set(memory)
    # webuiapi's idle wait returns once progress is 0 and no job is queued.
    waiter = threading.Thread(target=api.util_wait_for_ready, kwargs={"check_interval": 0.1}, daemon=True)
    waiter.start()
    waiter.join(10)
    assert not waiter.is_alive(), api.get_progress()
