"""Embeddings, prompt styles, variation seeds and tiling through the ``webuiapi`` client, against a
real engine process on a home with tiny random-weight models."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from installer.home import Home
from tests.conftest import free_port
from tests.engine.server_helpers import png_b64, populate
from tests.engine.test_a1111_client import SMALL
from tests.engine.test_startup import STARTUP_LINE, EngineProcess
from tests.engine.tinyembeddings import random_vectors, write_embedding

webuiapi = pytest.importorskip("webuiapi")

STYLES = ('name,prompt,negative_prompt\nanime,"masterpiece, {prompt}",lowres\n'
          'sharp,sharp focus,blurry\n')


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, EngineProcess, Home]]:
    home = Home(tmp_path_factory.mktemp("prompt-extras-home"))
    home.ensure()
    populate(home)
    write_embedding(home.root / "embeddings", "EasyNeg", "safetensors", random_vectors(4, 32, seed=1))
    write_embedding(home.root / "embeddings", "badhand", "pt", random_vectors(2, 32, seed=2))
    write_embedding(home.root / "models" / "embeddings", "sd15_only", "pt", random_vectors(2, 768, seed=3))
    (home.root / "styles.csv").write_text(STYLES, encoding="utf-8")
    port = free_port()
    process = EngineProcess(home, "--port", str(port), "--model", "tiny.safetensors")
    try:
        process.wait_line(STARTUP_LINE, timeout=240)
        yield webuiapi.WebUIApi(host="127.0.0.1", port=port, sampler="Euler", steps=2), process, home
    finally:
        process.proc.terminate()
        if process.exit_code(20) is None:
            process.kill()


def short_hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_embeddings_are_listed_used_and_hashed(engine) -> None:
    api, process, home = engine
    listed = api.get_embeddings()
    assert set(listed) == {"loaded", "skipped"}
    assert listed["loaded"]["EasyNeg"] == {"step": None, "sd_checkpoint": None, "sd_checkpoint_name": None,
                                           "shape": 32, "vectors": 4}
    assert listed["loaded"]["badhand"]["step"] == 500 and listed["loaded"]["badhand"]["vectors"] == 2
    assert listed["skipped"]["sd15_only"]["shape"] == 768
    deadline = time.monotonic() + 10
    while not any("Embedding sd15_only skipped" in line for line in process.lines) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any("Embedding sd15_only skipped" in line and "768 wide" in line for line in process.lines)
    result = api.txt2img(prompt="a cat", negative_prompt="EasyNeg, badhand, blurry", seed=4, **SMALL)
    text = result.info["infotexts"][0]
    easy, bad = short_hash(home.root / "embeddings" / "EasyNeg.safetensors"), short_hash(home.root / "embeddings" / "badhand.pt")
    assert f'TI hashes: "EasyNeg: {easy}, badhand: {bad}"' in text
    plain = api.txt2img(prompt="a cat", negative_prompt="EasyNegX, badhands, blurry", seed=4, **SMALL)
    assert "TI hashes" not in plain.info["infotexts"][0]  # names that match no file stay words


def test_refresh_embeddings_finds_a_new_file(engine) -> None:
    api, _, home = engine
    write_embedding(home.root / "embeddings", "fresh", "bin", random_vectors(1, 32, seed=4))
    assert "fresh" not in api.get_embeddings()["loaded"]
    response = api.session.post(url=f"{api.baseurl}/refresh-embeddings")
    assert response.status_code == 200
    assert api.get_embeddings()["loaded"]["fresh"]["vectors"] == 1


def test_prompt_styles_are_listed_applied_and_saved(engine) -> None:
    api, _, home = engine
    assert api.get_prompt_styles() == [
        {"name": "anime", "prompt": "masterpiece, {prompt}", "negative_prompt": "lowres"},
        {"name": "sharp", "prompt": "sharp focus", "negative_prompt": "blurry"}]
    result = api.txt2img(prompt="a fox", negative_prompt="ugly", styles=["anime", "sharp"], seed=2, **SMALL)
    assert result.info["infotexts"][0].startswith("masterpiece, a fox, sharp focus\nNegative prompt: ugly, lowres, blurry\n")
    assert result.info["prompt"] == "a fox" and result.info["all_prompts"] == ["masterpiece, a fox, sharp focus"]
    assert result.info["styles"] == ["anime", "sharp"]
    body = {"init_images": [png_b64("green")], "prompt": "a fox", "styles": ["sharp"], "denoising_strength": 0.5,
            "seed": 2, **SMALL}
    edited = api.session.post(url=f"{api.baseurl}/img2img", json=body)
    assert json.loads(edited.json()["info"])["infotexts"][0].startswith("a fox, sharp focus\nNegative prompt: blurry\n")
    missing = api.session.post(url=f"{api.baseurl}/txt2img", json={"prompt": "x", "styles": ["nope"], **SMALL})
    assert missing.status_code == 404 and missing.json()["field"] == "styles"
    saved = api.session.post(url=api.baseurl.replace("/sdapi/v1", "/maple/v1/styles"),
                             json={"name": "mine", "prompt": "{prompt}, oil painting", "negative_prompt": ""})
    assert saved.status_code == 200 and saved.json()["path"] == str(home.root / "styles.csv")
    assert [s["name"] for s in api.get_prompt_styles()] == ["anime", "sharp", "mine"]
    assert "mine" in (home.root / "styles.csv").read_text(encoding="utf-8-sig")


def test_variation_seeds_as_a1111_makes_them(engine) -> None:
    api, _, _ = engine
    seed_9 = api.txt2img(prompt="a boat", seed=9, **SMALL).image
    varied = api.txt2img(prompt="a boat", seed=5, subseed=9, subseed_strength=1.0, **SMALL)
    assert np.abs(np.asarray(varied.image, int) - np.asarray(seed_9, int)).max() <= 1
    batch = api.txt2img(prompt="a boat", seed=5, subseed=20, subseed_strength=0.3, batch_size=2,
                        seed_resize_from_w=48, seed_resize_from_h=48, **SMALL)
    info = batch.info
    assert info["all_seeds"] == [5, 5] and info["all_subseeds"] == [20, 21] and info["subseed_strength"] == 0.3
    assert (info["seed_resize_from_w"], info["seed_resize_from_h"]) == (48, 48)
    assert "Variation seed: 21, Variation seed strength: 0.3, Seed resize from: 48x48" in info["infotexts"][1]
    image = batch.images[1]
    image.info["parameters"] = info["infotexts"][1]
    back = api.png_info(image).json["parameters"]
    assert (back["Variation seed"], back["Variation seed strength"], back["Seed resize from"]) in (
        ("21", "0.3", "48x48"), (21, 0.3, "48x48"))


def test_tiling_is_written_and_only_for_that_request(engine) -> None:
    api, _, _ = engine
    plain = api.txt2img(prompt="tiles", seed=3, **SMALL)
    tiled = api.txt2img(prompt="tiles", seed=3, tiling=True, **SMALL)
    again = api.txt2img(prompt="tiles", seed=3, **SMALL)
    assert "Tiling: True" in tiled.info["infotexts"][0] and "Tiling" not in plain.info["infotexts"][0]
    assert tiled.image.tobytes() != plain.image.tobytes()
    assert again.image.tobytes() == plain.image.tobytes()
