"""Every route of A1111's API (and its Lora extension, and Forge's sd-modules) over plain HTTP against
a real engine: A1111's shapes with Maple's true contents; options kept as A1111 keeps them; fields and
scripts Maple does not implement refused with a 422 that names them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.engine.server_helpers import SMALL, populated_engine, served

GET_ROUTES = ["progress", "options", "cmd-flags", "samplers", "schedulers", "upscalers", "latent-upscale-modes",
              "sd-models", "sd-vae", "sd-modules", "hypernetworks", "face-restorers", "realesrgan-models",
              "prompt-styles", "embeddings", "memory", "scripts", "script-info", "extensions", "loras"]
POST_ROUTES = ["interrupt", "skip", "refresh-checkpoints", "refresh-vae", "refresh-loras", "refresh-embeddings",
               "unload-checkpoint", "reload-checkpoint"]
NOT_IN_MAPLE = ["interrogate", "create/embedding", "create/hypernetwork", "train/embedding", "train/hypernetwork",
                "server-restart"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory):
    with populated_engine(tmp_path_factory, "a1111-routes") as engine, served(engine) as url:
        yield url, engine


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None


def api(base: tuple[str, Any], route: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    return call(f"{base[0]}/sdapi/v1/{route}", method, body)


@pytest.mark.parametrize("route", GET_ROUTES)
def test_every_listing_route_answers(base, route: str) -> None:
    status, body = api(base, route)
    assert status == 200, body
    assert isinstance(body, dict | list)


@pytest.mark.parametrize("route", POST_ROUTES)
def test_every_action_route_answers(base, route: str) -> None:
    status, body = api(base, route, "POST", {})
    assert status == 200, body


@pytest.mark.parametrize("route", NOT_IN_MAPLE)
def test_routes_for_what_maple_lacks_say_so(base, route: str) -> None:
    status, body = api(base, route, "POST", {})
    assert status == 501 and "Maple" in json.dumps(body)


def test_the_lists_are_true(base) -> None:
    assert api(base, "hypernetworks")[1] == [] and api(base, "face-restorers")[1] == []
    assert api(base, "scripts")[1] == {"txt2img": ["controlnet"], "img2img": ["sd upscale", "controlnet"]}
    assert [s["name"] for s in api(base, "script-info")[1]] == ["sd upscale"]  # the one A1111 script Maple runs
    assert api(base, "extensions")[1] == []
    assert [m["model_name"] for m in api(base, "sd-modules")[1]] == ["tinyvae.safetensors"]
    flags = api(base, "cmd-flags")[1]
    assert flags["api"] is True and flags["listen"] is False and flags["lowvram"] is False
    assert flags["ckpt_dir"].endswith("Stable-diffusion") and flags["api_auth"] is None
    schedulers = {s["label"] for s in api(base, "schedulers")[1]}
    assert {"Uniform", "Karras", "SGM Uniform", "Align Your Steps", "Beta"} <= schedulers


def test_unload_then_generate_loads_again(base) -> None:
    assert api(base, "unload-checkpoint", "POST", {})[0] == 200
    assert base[1].service.runtime.model.pipe is None
    status, body = api(base, "txt2img", "POST", {"prompt": "a cat", **SMALL})
    assert status == 200 and len(body["images"]) == 1
    assert api(base, "reload-checkpoint", "POST", {})[0] == 200
    assert base[1].service.runtime.model.pipe is not None


def test_options_keep_what_maple_does_not_use_and_refuse_what_it_cannot_do(base) -> None:
    status, _ = api(base, "options", "POST", {"send_seed": False, "some_extension_setting": [1, 2]})
    assert status == 200
    options = api(base, "options")[1]
    assert options["send_seed"] is False and options["some_extension_setting"] == [1, 2]
    assert options["eta_ancestral"] == 1.0 and options["randn_source"] == "GPU" and options["samples_format"] == "png"
    status, body = api(base, "options", "POST", {"eta_ancestral": 0.5})
    assert status == 422 and body["field"] == "eta_ancestral" and "1.0" in body["detail"]
    status, body = api(base, "options", "POST", {"randn_source": "XPU"})
    assert status == 422 and body["field"] == "randn_source"


def test_the_noise_source_from_options_and_from_override_settings(base) -> None:
    assert api(base, "options", "POST", {"randn_source": "CPU", "eta_noise_seed_delta": 31337})[0] == 200
    try:
        info = json.loads(api(base, "txt2img", "POST", {"prompt": "a cat", **SMALL})[1]["info"])
        assert "RNG: CPU" in info["infotexts"][0] and "ENSD: 31337" in info["infotexts"][0]  # Euler a
        body = {"prompt": "a cat", **SMALL, "override_settings": {"randn_source": "NV", "eta_noise_seed_delta": 0}}
        info = json.loads(api(base, "txt2img", "POST", body)[1]["info"])
        assert "RNG: NV" in info["infotexts"][0] and "ENSD" not in info["infotexts"][0]
    finally:
        api(base, "options", "POST", {"randn_source": "GPU", "eta_noise_seed_delta": 0})
    info = json.loads(api(base, "txt2img", "POST", {"prompt": "a cat", **SMALL})[1]["info"])
    assert "RNG" not in info["infotexts"][0]


@pytest.mark.parametrize(("extra", "field"), [
    ({"restore_faces": True}, "restore_faces"),
    ({"script_name": "X/Y/Z plot", "script_args": [1]}, "script_name"),
    ({"refiner_checkpoint": "sdxl_refiner.safetensors"}, "refiner_checkpoint"),
    ({"enable_hr": True, "hr_sampler_name": "DPM++ 2M"}, "hr_sampler_name"),
    ({"eta": 0.5}, "eta"),
    ({"sampler_name": "DDIM", "eta": 2}, "eta"),
    ({"s_churn": 1.0}, "s_churn"),
    ({"override_settings": {"eta_ancestral": 0.3}}, "override_settings.eta_ancestral"),
    ({"alwayson_scripts": {"ADetailer": {"args": [True, {"ad_model": "face_yolov8n.pt"}]}}}, "alwayson_scripts.ADetailer"),
    ({"alwayson_scripts": {"Dynamic Prompts": {"args": [True]}}}, "alwayson_scripts.Dynamic Prompts"),
])
def test_fields_maple_does_not_implement_are_refused_by_name(base, extra: dict[str, Any], field: str) -> None:
    status, body = api(base, "txt2img", "POST", {"prompt": "a cat", **SMALL, **extra})
    assert status == 422, body
    assert body["field"] == field and body["detail"].startswith(field)


@pytest.mark.parametrize("extra", [
    {"restore_faces": False, "script_name": "", "eta": None, "s_churn": 0, "refiner_checkpoint": None},
    {"eta": 0.5, "sampler_name": "Euler"},  # Euler has no eta: A1111 ignores it too
    {"enable_hr": False, "hr_sampler_name": "Use same sampler", "hr_prompt": ""},
    {"alwayson_scripts": {"ADetailer": {"args": [False]}}},
    {"override_settings": {"eta_ancestral": 1.0, "send_seed": True}},
])
def test_the_same_fields_at_their_off_values_pass(base, extra: dict[str, Any]) -> None:
    status, body = api(base, "txt2img", "POST", {"prompt": "a cat", **SMALL, **extra})
    assert status == 200, body


def test_an_unknown_hires_upscaler_is_refused_before_the_job(base) -> None:
    status, body = api(base, "txt2img", "POST", {"prompt": "a cat", **SMALL, "enable_hr": True,
                                                 "hr_upscaler": "No Such Upscaler"})
    assert status == 404 and body["field"] == "hr_upscaler" and "Available" in body["detail"]
    assert api(base, "progress")[1]["state"]["job_count"] == 0


def test_ddim_runs_the_requests_eta(base) -> None:
    body = {"prompt": "a cat", **SMALL, "sampler_name": "DDIM"}
    zero = api(base, "txt2img", "POST", {**body, "eta": 0})[1]
    some = api(base, "txt2img", "POST", {**body, "eta": 0.7})[1]
    assert "Eta DDIM: 0.7" in json.loads(some["info"])["infotexts"][0]
    assert "Eta DDIM" not in json.loads(zero["info"])["infotexts"][0] and zero["images"] != some["images"]


def test_loras_list_their_training_metadata_and_answer_to_their_alias(base) -> None:
    from safetensors.torch import load_file, save_file

    lora_dir = base[1].home.models_dir("lora")
    state = load_file(str(lora_dir / "detail.safetensors"))
    save_file(state, str(lora_dir / "renamed_file.safetensors"),
              metadata={"ss_output_name": "add_detail", "ss_base_model_version": "sd_v1"})
    assert api(base, "refresh-loras", "POST", {})[0] == 200
    entry = next(x for x in api(base, "loras")[1] if x["name"] == "renamed_file")
    assert entry["alias"] == "add_detail" and entry["metadata"]["ss_base_model_version"] == "sd_v1"
    status, body = api(base, "txt2img", "POST", {"prompt": "a cat <lora:add_detail:0.5>", **SMALL})
    assert status == 200 and "add_detail" in json.loads(body["info"])["infotexts"][0]


def test_server_stop_is_the_engines_shutdown(base) -> None:
    service = base[1].service
    status, _ = api(base, "server-stop", "POST", {})
    assert status == 200 and service.shutdown_requested.is_set()
    service.shutdown_requested.clear()


def test_kept_settings_survive_a_restart_and_bad_ones_fall_back(tmp_path) -> None:
    from engine.server.a1111_options import KeptOptions

    kept = KeptOptions(tmp_path)
    kept.update({"send_seed": False, "randn_source": "NV", "eta_noise_seed_delta": 31337, "eta_ancestral": 1.0})
    again = KeptOptions(tmp_path)
    assert again.values == {"send_seed": False, "randn_source": "NV", "eta_noise_seed_delta": 31337}
    assert again.noise_settings() == ("NV", 31337)
    (tmp_path / "a1111-options.json").write_text('{"randn_source": "XPU"}', encoding="utf-8")
    assert KeptOptions(tmp_path).noise_settings() == ("GPU", 0)
    (tmp_path / "a1111-options.json").write_text("not json", encoding="utf-8")
    assert KeptOptions(tmp_path).values == {}
