"""Problems 3, 6, 7, 8 and 9 of the hostile-request report, and the whole hostile-request set, on a
real engine over HTTP (uvicorn on a local port, tiny models).

3 memory from small bodies, 6 jobs whose client has gone / interrupt in the hires pass and the VAE
decode, 7 image formats, 8 500s that should be 422s, 9 error bodies that leak internals and bodies
with no size limit. ``test_the_hostile_request_set`` prints its counts (``pytest -s``).
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.engine.hostile_helpers import (
    Reply,
    Server,
    b64,
    eps_bytes,
    huge_header_png,
    image_bytes,
    one_bit_png,
    png_with_chunk,
    server_fixture,
    ztxt_bomb_png,
)
from tests.engine.hostile_set import Case, cases
from tests.engine.server_helpers import SMALL, decode_png, engine_fixture, output_files

pytestmark = pytest.mark.timeout(900)
MB = 1024 * 1024
engine = engine_fixture("hostile")
server = server_fixture()


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def field_of(r: Reply) -> str:
    return str(r.json().get("field") or r.json()["detail"].split(":")[0])


def idle(server: Server, timeout: float = 60) -> float:
    """Wait until no job runs; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.get("/sdapi/v1/progress?skip_current_image=true").json()["state"]["job_count"] == 0:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("the worker is still busy")


def wait_for_step(server: Server, at_least: int, timeout: float = 60) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.get("/sdapi/v1/progress?skip_current_image=true").json()["state"]["sampling_step"] >= at_least:
            return
        time.sleep(0.02)
    raise AssertionError(f"the job never reached step {at_least}")


# --- 3: memory from small bodies ----------------------------------------------------------------
@pytest.mark.parametrize(("count", "batch_size"), [(12, 1), (3, 3)])
def test_small_bodies_of_big_images_are_refused_before_decoding(server: Server, count: int, batch_size: int) -> None:
    tile = b64(one_bit_png(4096))
    body = {**SMALL, "batch_size": batch_size, "init_images": [tile] * count}
    assert len(json.dumps(body)) < 200_000
    before = rss()
    r = server.post("/sdapi/v1/img2img", body)
    grew = rss() - before
    assert r.status == 422 and field_of(r) == "init_images", r.text
    assert grew < 150 * MB, f"RSS grew {grew / MB:.0f} MB"


def test_images_are_decoded_in_the_worker_when_the_job_starts(server: Server, monkeypatch) -> None:
    from engine.server import image_inputs

    threads: list[str] = []
    real = image_inputs.load

    def recording(image: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(image)

    monkeypatch.setattr(image_inputs, "load", recording)
    r = server.post("/sdapi/v1/img2img", {**SMALL, "init_images": [b64(image_bytes("PNG"))], "denoising_strength": 0.5})
    assert r.status == 200, r.text
    assert threads == ["maple-worker"]


# --- 6: jobs nobody waits for; interrupt in the hires pass and the VAE decode --------------------
def test_a_job_whose_client_hung_up_is_interrupted(engine, server: Server) -> None:
    sock = server.open_socket("POST", "/sdapi/v1/txt2img", {**SMALL, "steps": 150, "n_iter": 20, "seed": 1001})
    wait_for_step(server, 1)
    sock.close()
    assert idle(server, 30) < 20
    assert len([p for p in output_files(engine.home) if "-10" in p.name]) < 20


def test_a_queued_job_whose_client_hung_up_never_runs(engine, server: Server) -> None:
    running = server.open_socket("POST", "/sdapi/v1/txt2img", {**SMALL, "steps": 150, "n_iter": 20, "seed": 3001})
    wait_for_step(server, 1)
    queued = server.open_socket("POST", "/sdapi/v1/txt2img", {**SMALL, "seed": 7001})
    time.sleep(0.5)
    queued.close()
    time.sleep(0.5)
    assert server.post("/sdapi/v1/interrupt", {}).status == 200
    idle(server, 30)
    running.close()
    assert not [p for p in output_files(engine.home) if p.name.endswith("-7001.png")]


def test_hires_target_size_is_bounded_also_through_hr_resize(server: Server) -> None:
    for key in ("hr_resize_x", "hr_resize_y"):
        r = server.post("/sdapi/v1/txt2img", {**SMALL, "enable_hr": True, key: 2048}, timeout=60)
        assert r.status == 422 and field_of(r) == key, r.text
    ok = server.post("/sdapi/v1/txt2img", {**SMALL, "enable_hr": True, "hr_resize_x": 128, "hr_second_pass_steps": 1,
                                           "denoising_strength": 0.5})
    assert ok.status == 200, ok.text


def test_interrupt_in_the_hires_pass_stops_within_a_step(server: Server) -> None:
    done: dict[str, Any] = {}
    body = {**SMALL, "enable_hr": True, "hr_scale": 2, "hr_second_pass_steps": 150, "denoising_strength": 0.5}
    worker = threading.Thread(target=lambda: done.setdefault("r", server.post("/sdapi/v1/txt2img", body)))
    worker.start()
    wait_for_step(server, SMALL["steps"] + 1)  # in the second pass
    asked = time.monotonic()
    assert server.post("/sdapi/v1/interrupt", {}).status == 200
    worker.join(60)
    took = time.monotonic() - asked
    reply = done["r"]
    assert reply.status == 200, reply.text
    assert json.loads(reply.json()["info"])["interrupted"] is True
    assert decode_png(reply.json()["images"][0]).size == (64, 64)  # the first pass's picture
    assert took < 15, took


def test_interrupt_stops_the_vae_decode(engine) -> None:
    import torch

    from engine.generation.steps import decode

    class Control:
        def __init__(self, after: int | None) -> None:
            self.calls, self.after = 0, after

        def should_interrupt(self) -> bool:
            self.calls += 1
            return self.after is not None and self.calls > self.after

        def should_skip(self) -> bool:
            return False

    pipe = engine.service.runtime.model.pipe
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    assert len(decode(pipe, latents, Control(None))) == 1
    stopped = Control(1)  # quiet when the decode starts, interrupted at its first block
    assert decode(pipe, latents, stopped) == [] and stopped.calls == 2
    assert len(decode(pipe, latents, Control(0))) == 1  # interrupted before: the partial picture is decoded


# --- 7: image formats ---------------------------------------------------------------------------
@pytest.mark.parametrize(("fmt", "mode"), [("TIFF", "RGB"), ("ICO", "RGB"), ("PCX", "RGB"), ("TGA", "RGB"),
                                           ("PPM", "RGB"), ("SGI", "RGB"), ("XBM", "1"), ("MSP", "1"), ("IM", "RGB")])
def test_other_formats_are_refused(server: Server, fmt: str, mode: str) -> None:
    r = server.post("/sdapi/v1/img2img", {**SMALL, "init_images": [b64(image_bytes(fmt, mode=mode, color=0))]})
    assert r.status == 422 and field_of(r) == "init_images[0]" and "PNG, JPEG, WebP, BMP or GIF" in r.text, r.text


def test_eps_never_reaches_ghostscript(server: Server, monkeypatch) -> None:
    started: list[Any] = []
    real = subprocess.Popen.__init__

    def recording(self: Any, *args: Any, **kwargs: Any) -> None:
        started.append(args[0] if args else kwargs.get("args"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", recording)
    for path, body in (("/sdapi/v1/img2img", {**SMALL, "init_images": [b64(eps_bytes())]}),
                       ("/sdapi/v1/png-info", {"image": b64(eps_bytes())})):
        r = server.post(path, body)
        assert r.status == 422 and "PNG, JPEG, WebP, BMP or GIF" in r.text, r.text
    assert started == []


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_the_five_formats_work(server: Server, fmt: str) -> None:
    r = server.post("/sdapi/v1/img2img", {**SMALL, "init_images": [b64(image_bytes(fmt))], "denoising_strength": 0.5})
    assert r.status == 200, r.text


# --- 8: 422 naming the field, not 500 -----------------------------------------------------------
@pytest.mark.parametrize(("key", "text"), [("prompt", "(" * 600 + "x" + ")" * 600), ("prompt", "[" * 600),
                                           ("prompt", "(]" * 300), ("negative_prompt", "[a:" * 400)])
def test_deep_nesting_is_a_422(server: Server, caplog, key: str, text: str) -> None:
    with caplog.at_level(logging.INFO):
        r = server.post("/sdapi/v1/txt2img", {**SMALL, key: text})
    assert r.status == 422 and field_of(r) == key and "nested" in r.text, r.text
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


def test_reasonable_nesting_still_makes_a_picture(server: Server) -> None:
    assert server.post("/sdapi/v1/txt2img", {**SMALL, "prompt": "(" * 50 + "cat" + ")" * 50}).status == 200


@pytest.mark.parametrize(("where", "raw"), [("prompt", '"prompt": "a \\ud800 b"'),
                                            ("prompt", '"prompt": "\\udfff"'),
                                            ("prompt", '"prompt": "\\udc00\\ud800"'),
                                            ("negative_prompt", '"negative_prompt": "x\\udbff"'),
                                            ("styles[0]", '"styles": ["\\ud800"]'),
                                            ("override_settings", '"override_settings": {"\\ud800": 1}'),
                                            ("my_field", '"my_field": "\\ud800"')])
def test_lone_surrogates_are_a_422(server: Server, where: str, raw: str) -> None:
    body = json.dumps(SMALL)[:-1] + ", " + raw + "}"
    r = server.request("POST", "/sdapi/v1/txt2img", body, headers={"Content-Type": "application/json"})
    assert r.status == 422 and field_of(r) == where and "surrogate" in r.text, r.text
    r = server.request("POST", "/maple/v1/token-count", '{"prompt": "\\ud800"}', headers={"Content-Type": "application/json"})
    assert r.status == 422, r.text


def test_any_unicode_character_makes_a_picture(server: Server) -> None:
    text = "猫 \U0001f600 \u202eRTL\u202c \x00 \uffff \U0010ffff e\u0301 \ufeff " + "\u0301" * 500
    r = server.post("/sdapi/v1/txt2img", {**SMALL, "prompt": text, "negative_prompt": text})
    assert r.status == 200, r.text
    assert json.loads(r.json()["info"])["prompt"] == text


@pytest.mark.parametrize("before_image", [True, False])
def test_a_png_with_a_50_mb_text_chunk_is_a_422(server: Server, before_image: bool) -> None:
    import zlib

    bomb = png_with_chunk(b"zTXt", b"parameters\x00\x00" + zlib.compress(b"a" * 50 * MB, 9), before_image)
    assert len(bomb) < 100_000 and (before_image is False or bomb == ztxt_bomb_png())
    r = server.post("/sdapi/v1/png-info", {"image": b64(bomb)})
    assert r.status == 422 and field_of(r) == "image", r.text
    r = server.post("/sdapi/v1/img2img", {**SMALL, "init_images": [b64(bomb)]})
    assert r.status == 422 and field_of(r) == "init_images[0]", r.text


# --- 9: error bodies and sizes ------------------------------------------------------------------
LEAKS = ("0x", "BytesIO", "Traceback", "<", "object at", "Error:")


@pytest.mark.parametrize("data", ["aGVsbG8=", b64(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40), b64(huge_header_png())])
def test_bad_images_leak_nothing(server: Server, data: str) -> None:
    for path, body in (("/sdapi/v1/img2img", {**SMALL, "init_images": [data]}), ("/sdapi/v1/png-info", {"image": data})):
        r = server.post(path, body)
        assert r.status == 422, r.text
        assert not any(leak in r.json()["detail"] for leak in LEAKS), r.text


def test_an_unexpected_error_is_generic_with_one_short_traceback(engine, server: Server, monkeypatch, caplog) -> None:
    def broken() -> dict[str, Any]:
        raise RuntimeError("secret <thing object at 0x7f0012345678>")

    def runaway(depth: int = 0) -> dict[str, Any]:
        return runaway(depth + 1)

    for fault in (broken, runaway):
        monkeypatch.setattr(engine.service.runtime, "options", fault)
        caplog.clear()
        with caplog.at_level(logging.INFO):
            r = server.get("/sdapi/v1/options")
        assert r.status == 500 and r.json()["error"] == "internal", r.text
        assert not any(leak in r.text for leak in (*LEAKS, "secret", "RuntimeError", "Recursion")), r.text
        reference = r.json()["detail"].split("log reference ")[1].rstrip(")")
        logged = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR]
        assert len(logged) == 1 and reference in logged[0] and logged[0].count("Traceback") == 1, logged
        assert len(logged[0].splitlines()) < 120


def test_an_unexpected_error_in_the_worker_is_generic(engine, server: Server, monkeypatch) -> None:
    def broken(job: Any, control: Any) -> Any:
        raise KeyError("secret at 0x7f00")

    monkeypatch.setattr(engine.service.runtime, "run", broken)
    r = server.post("/sdapi/v1/txt2img", SMALL)
    assert r.status == 500 and "log reference E-" in r.json()["detail"] and "secret" not in r.text, r.text


def test_bodies_and_fields_have_size_limits(server: Server) -> None:
    big = server.request("POST", "/sdapi/v1/txt2img", b"{" + b" " * (33 * MB) + b"}",
                         headers={"Content-Type": "application/json"})
    assert big.status == 413 and field_of(big) == "body", big.text
    chunked = server.request("POST", "/sdapi/v1/txt2img", _chunks(b" " * (33 * MB)),
                             headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert chunked.status == 413, chunked.text
    unknown = server.post("/sdapi/v1/txt2img", {**SMALL, "not_a_field": "x" * 100_000})
    assert unknown.status == 422 and field_of(unknown) == "not_a_field" and len(unknown.body) < 5000, unknown.text
    long = server.post("/sdapi/v1/txt2img", {**SMALL, "prompt": "cat " * 6000})
    assert long.status == 422 and field_of(long) == "prompt", long.text
    assert server.post("/maple/v1/token-count", {"prompt": "cat " * 6000}).status == 422


def _chunks(data: bytes, size: int = 1 << 20) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size]) for i in range(0, len(data), size)]
    return b"".join(parts) + b"0\r\n\r\n"


# --- outputs: written atomically, only images served -------------------------------------------
def test_output_pngs_are_written_under_a_temporary_name_then_renamed(engine, server: Server, monkeypatch) -> None:
    from engine.server import outputs

    renames: list[tuple[str, str]] = []
    real = outputs.os.replace

    def recording(src: Any, dst: Any) -> None:
        renames.append((str(src), str(dst)))
        real(src, dst)

    monkeypatch.setattr(outputs.os, "replace", recording)
    assert server.post("/sdapi/v1/txt2img", {**SMALL, "seed": 4242}).status == 200
    (src, dst), = renames
    assert dst.endswith("-4242.png") and "/." in src and src.endswith(".tmp") and Path(src).parent == Path(dst).parent

    def crash(src: Any, dst: Any) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(outputs.os, "replace", crash)
    assert server.post("/sdapi/v1/txt2img", {**SMALL, "seed": 4343}).status >= 500
    folder = Path(dst).parent
    assert not list(folder.glob("*-4343.png")) and not list(folder.glob(".*.tmp"))


def test_only_images_are_served_from_outputs(engine, server: Server) -> None:
    day = engine.home.outputs_dir / "txt2img-images" / "2020-01-01"
    day.mkdir(parents=True, exist_ok=True)
    (day / "00000-1.png").write_bytes(image_bytes("PNG"))
    for name in ("notes.txt", "params.json", ".00001-2.png.ab12.tmp", ".hidden.png", "page.html", "x.svg"):
        (day / name).write_text("<script>alert(1)</script>")
        assert server.get(f"/outputs/txt2img-images/2020-01-01/{name}").status == 404, name
    r = server.get("/outputs/txt2img-images/2020-01-01/00000-1.png")
    assert r.status == 200 and r.headers["content-type"] == "image/png" and r.headers["x-content-type-options"] == "nosniff"
    listed = server.get("/maple/v1/outputs?date=2020-01-01").json()["images"]
    assert [i["name"] for i in listed] == ["00000-1.png"]


# --- the whole set ------------------------------------------------------------------------------
def test_the_hostile_request_set(engine, server: Server) -> None:
    all_cases = cases()
    before = rss()
    refused = served = 0
    wrong: list[str] = []
    for case in all_cases:
        reply = _send(server, case)
        refused += reply.status >= 400
        served += reply.status < 400
        if reply.status not in case.expect or reply.status >= 500:
            wrong.append(f"{case.name}: {reply.status} {reply.text[:200]}")
    alive = server.get("/maple/v1/ready").json()["ready"] and server.post("/sdapi/v1/txt2img", SMALL).status == 200
    after = rss()
    print(f"\nhostile requests: {len(all_cases)} cases, {refused} refused, {served} served as asked, "
          f"engine alive: {alive}, RSS {before / MB:.0f} MB before, {after / MB:.0f} MB after")
    assert wrong == [] and alive
    assert not engine.service.shutdown_requested.is_set()


def _send(server: Server, case: Case) -> Reply:
    host = case.host.format(port=server.port) if case.host is not None else None
    return server.request(case.method, case.path, case.body, headers=dict(case.headers), host=host, timeout=120)
