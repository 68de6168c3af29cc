"""Maple's own endpoints, the web page, saved images, the demo model's label and auth when listening."""

from __future__ import annotations

import datetime as dt

import pytest

from installer.home import Home
from tests.engine.server_helpers import LOCAL_BASE, SMALL, running_engine


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory):
    home = Home(tmp_path_factory.mktemp("demo") / "home").ensure()  # no checkpoint: the built-in model is copied
    with running_engine(home) as eng:
        yield eng


def test_ready_info_and_demo_label(demo_engine) -> None:
    c = demo_engine.client
    ready = c.get("/maple/v1/ready").json()
    assert ready["ready"] is True and ready["model"].startswith("maple-shapes.safetensors [")
    assert ready["startup_time"] > 0
    info = c.get("/maple/v1/info").json()
    assert info["demo"] is True and info["device"] == "cpu" and info["precision"] == "fp32"
    assert info["vram_mode"] == "" and info["version"]  # the CPU has no VRAM: no VRAM words
    (model,) = c.get("/sdapi/v1/sd-models").json()
    assert "draws coloured shapes" in model["model_name"] and model["title"] == ready["model"]
    assert info["demo_model"] == "shapes"


def test_token_count(demo_engine) -> None:
    c = demo_engine.client
    assert c.post("/maple/v1/token-count", json={"prompt": ""}).json() == {"tokens": 0, "chunks": 1, "limit": 75}
    one = c.post("/maple/v1/token-count", json={"prompt": "a photo of a cat <lora:x:0.5>"}).json()
    assert one["chunks"] == 1 and one["limit"] == 75 and 3 <= one["tokens"] <= 10
    long = c.post("/maple/v1/token-count", json={"prompt": "cat, " * 60}).json()
    assert long["tokens"] == 120 and long["chunks"] == 2 and long["limit"] == 150


def test_outputs_listing_and_serving(demo_engine) -> None:
    c = demo_engine.client
    c.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "noise"})
    today = dt.date.today().isoformat()
    listing = c.get("/maple/v1/outputs").json()
    assert listing["dates"][0] == today
    image = listing["images"][0]
    assert image["mode"] == "txt2img" and image["infotext"].startswith("noise\n")
    assert c.get("/maple/v1/outputs", params={"date": today}).json() == listing
    assert c.get("/maple/v1/outputs", params={"date": "2001-01-01"}).json()["images"] == []
    got = c.get(image["url"])
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert c.post(image["url"]).status_code == 405


def test_web_page_is_served(demo_engine) -> None:
    c = demo_engine.client
    page = c.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    scripts = [p for p in ("api.js", "app.js", "store.js") if c.get(f"/web/{p}").status_code == 200]
    assert scripts, "no script of assets/web is served under /web/"
    assert c.get("/web/../settings.json").status_code == 404


def test_shutdown_only_from_this_computer(demo_engine) -> None:
    svc = demo_engine.service
    remote = demo_engine.client.__class__(demo_engine.client.app, base_url=LOCAL_BASE, client=("10.1.2.3", 5555))
    assert remote.post("/maple/v1/shutdown").status_code == 403
    assert not svc.shutdown_requested.is_set()
    assert demo_engine.client.post("/maple/v1/shutdown").json() == {"stopping": True}
    assert svc.shutdown_requested.is_set()
    svc.shutdown_requested.clear()


def test_auth_when_listening(tmp_path) -> None:
    from tests.engine.tinymodels import write_tiny_checkpoint

    home = Home(tmp_path / "home").ensure()
    write_tiny_checkpoint(home.models_dir("checkpoint") / "tiny.safetensors")
    with running_engine(home, "--listen", "--api-auth", "ann:pw") as eng:
        c = eng.client
        assert eng.service.config.host == "0.0.0.0"
        for path in ("/sdapi/v1/sd-models", "/maple/v1/ready", "/", "/docs"):
            assert c.get(path).status_code == 401, path
        assert c.post("/sdapi/v1/txt2img", json=SMALL).status_code == 401
        assert c.get("/sdapi/v1/sd-models", auth=("ann", "wrong")).status_code == 401
        assert c.get("/sdapi/v1/sd-models", auth=("ann", "pw")).status_code == 200
        assert c.post("/sdapi/v1/txt2img", json=SMALL, auth=("ann", "pw")).status_code == 200


def test_start_falls_back_to_the_built_in_model_when_no_checkpoint_loads(tmp_path) -> None:
    home = Home(tmp_path / "home").ensure()
    (home.models_dir("checkpoint") / "half.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")
    with running_engine(home, "--model", "half.safetensors") as eng:
        info = eng.client.get("/maple/v1/info").json()
        assert info["demo"] is True and info["model"].startswith("maple-shapes")
        assert eng.client.post("/sdapi/v1/txt2img", json=SMALL).status_code == 200
