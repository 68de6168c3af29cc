"""The built-in shapes model: shipped in A1111's single-file layout, the engine's default on an empty
home, and it draws what the prompt asks (measured on prompts it never saw) through the API."""

from __future__ import annotations

import base64
import io
import json
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from engine.models.builtin import BUILTIN_FILENAME, BUILTIN_LORA, shipped
from installer.home import Home
from installer.store.modelfile import inspect
from scripts.shapes.draw import draw_scene
from scripts.shapes.vocab import Scene, held_out_scenes
from tests.engine.server_helpers import Engine, decode_png, running_engine
from tests.engine.shape_analysis import look

NATIVE = {"width": 128, "height": 128, "steps": 10, "cfg_scale": 5.0, "sampler_name": "DPM++ 2M"}  # the page's defaults for it
PROMPT = "a large red circle on a blue background, center"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    home = Home(tmp_path_factory.mktemp("shapes") / "home").ensure()  # empty: the built-in model is the default
    with running_engine(home) as eng:
        yield eng


def generate(engine: Engine, prompt: str, seed: int, route: str = "txt2img", **fields: Any) -> Image.Image:
    body = {**NATIVE, "prompt": prompt, "seed": seed, **fields}
    r = engine.client.post(f"/sdapi/v1/{route}", json=body)
    assert r.status_code == 200, r.text
    return decode_png(r.json()["images"][0]).convert("RGB")


def _pixels(image: Image.Image) -> Any:
    return np.asarray(image, dtype=float)


def _differ(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(_pixels(a) - _pixels(b)).mean())


def test_the_shipped_model_is_a_small_a1111_single_file_checkpoint() -> None:
    path = shipped()
    assert path.stat().st_size <= 15_000_000
    header, kind, arch = inspect(path)
    assert (kind, arch) == ("checkpoint", "sd1")
    assert header.metadata["maple.config"] == "shapes"
    for key in ("model.diffusion_model.input_blocks.0.0.weight", "first_stage_model.decoder.conv_out.weight",
                "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"):
        assert key in header.tensors
    assert header.tensors["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"]["shape"][0] \
        == 49408  # the real CLIP vocabulary
    _, lora_kind, lora_arch = inspect(shipped(BUILTIN_LORA))
    assert lora_kind == "lora"


def test_an_empty_home_starts_with_the_built_in_model_and_says_what_it_is(engine: Engine) -> None:
    assert (engine.home.models_dir("checkpoint") / BUILTIN_FILENAME).is_file()
    assert (engine.home.models_dir("lora") / BUILTIN_LORA).is_file()
    info = engine.client.get("/maple/v1/info").json()
    assert info["demo"] is True and info["demo_model"] == "shapes"
    assert BUILTIN_FILENAME in info["model"]
    models = engine.client.get("/sdapi/v1/sd-models").json()
    assert [m["model_name"] for m in models] == ["maple-shapes (built-in, draws coloured shapes)"]
    loras = engine.client.get("/sdapi/v1/loras").json()
    assert [entry["name"] for entry in loras] == ["maple-shapes-outlined"]


def test_the_console_says_it_draws_coloured_shapes(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    from engine.models.registry import ModelRegistry
    from engine.server.boot import ensure_some_checkpoint
    from engine.server.timing import StartupTimer

    home = Home(tmp_path / "home").ensure()
    caplog.set_level("INFO")
    ensure_some_checkpoint(home, ModelRegistry(home), StartupTimer())
    assert "built-in model, a small model that draws coloured shapes" in caplog.text


# What the shipped weights reach on this machine (printed with -s): colour 91.0 %, shape 84.0 % (the
# issue's aims: 90 % and 70 %). The floors sit two to three prompts under the colour figure, since
# another CPU's float rounding may turn a borderline picture, and far above chance (10 % and 20 %).
COLOUR_FLOOR, SHAPE_FLOOR = 0.88, 0.78


def test_prompts_it_never_saw_get_their_colour_and_shape(engine: Engine) -> None:
    """200 held-out scenes at 128x128, 10 steps, through the API."""
    scenes = held_out_scenes(200)
    colour = shape = 0
    for i, scene in enumerate(scenes):
        seen = look(generate(engine, scene.prompt(), seed=1000 + i))
        colour += bool(seen and seen.colour == scene.colour)
        shape += bool(seen and seen.shape == scene.shape)
    print(f"adherence on {len(scenes)} unseen prompts: colour {colour / len(scenes):.1%}, shape {shape / len(scenes):.1%}")
    assert colour >= COLOUR_FLOOR * len(scenes)
    assert shape >= SHAPE_FLOOR * len(scenes)


def test_seed_cfg_sampler_and_negative_prompt_each_change_the_picture(engine: Engine) -> None:
    base = generate(engine, PROMPT, seed=5)
    assert _differ(base, generate(engine, PROMPT, seed=5)) == 0.0  # same request, same picture
    for changed in (generate(engine, PROMPT, seed=6), generate(engine, PROMPT, seed=5, cfg_scale=1.5),
                    generate(engine, PROMPT, seed=5, sampler_name="Euler a"),
                    generate(engine, PROMPT, seed=5, negative_prompt="circle, red")):
        assert _differ(base, changed) > 3.0


def test_the_negative_prompt_pushes_away_from_what_it_names(engine: Engine) -> None:
    """A red circle is drawn red less often with "red" as the negative prompt than with "blue"."""
    def red_count(negative: str) -> int:
        found = [look(generate(engine, "a large red circle on a white background, center", seed=s,
                               negative_prompt=negative)) for s in range(16)]
        return sum(1 for f in found if f is not None and f.colour == "red")

    with_red, with_blue = red_count("red"), red_count("blue")
    print(f"red circles out of 16: negative 'red' {with_red}, negative 'blue' {with_blue}")
    assert with_red < with_blue


def test_img2img_keeps_the_layout_of_its_source(engine: Engine) -> None:
    scene = Scene("yellow", "square", "blue", "large", 0, 0)
    source = draw_scene(scene, random.Random(3))
    buf = io.BytesIO()
    source.save(buf, format="PNG")
    out = generate(engine, "a large red square on a blue background, top left", seed=9, route="img2img",
                   init_images=[base64.b64encode(buf.getvalue()).decode()], denoising_strength=0.55)
    seen = look(out)
    assert seen is not None
    assert (seen.row, seen.col, seen.shape, seen.background) == (0, 0, "square", "blue")


def test_the_shipped_lora_draws_outlines_and_is_named_in_the_infotext(engine: Engine) -> None:
    """The LoRA, taught on outlined shapes, empties the middle of squares and circles the model draws
    filled without it, and its hash is in the infotext as for any LoRA."""
    prompts = [f"a large {colour} {shape} on a gray background, center"
               for colour, shape in (("green", "square"), ("red", "circle"), ("purple", "square"), ("orange", "circle"))]
    hollow = {0: 0, 1: 0}
    infotext = ""
    for weight in hollow:
        for prompt in prompts:
            for seed in (40, 41):
                r = engine.client.post("/sdapi/v1/txt2img", json={**NATIVE, "seed": seed, "prompt": prompt + (
                    " <lora:maple-shapes-outlined:1>" if weight else "")})
                assert r.status_code == 200, r.text
                seen = look(decode_png(r.json()["images"][0]).convert("RGB"))
                hollow[weight] += bool(seen and seen.hollow)
                infotext = json.loads(r.json()["info"])["infotexts"][0]
    print(f"hollow shapes out of {2 * len(prompts)}: without the LoRA {hollow[0]}, with it {hollow[1]}")
    assert hollow[0] == 0 and hollow[1] >= 5
    assert 'Lora hashes: "maple-shapes-outlined: ' in infotext
