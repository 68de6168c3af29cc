"""Through a real HTTP server: concurrent requests queue and all finish; progress, interrupt, skip, OOM."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import torch

from tests.engine.server_helpers import SMALL, populated_engine, served


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with populated_engine(tmp_path_factory, "queue") as eng:
        yield eng


@pytest.fixture(scope="module")
def url(engine):
    with served(engine) as base:
        yield base


def test_concurrent_requests_all_finish_one_at_a_time(engine, url) -> None:
    seen_jobs = []
    original = engine.service.runtime.generate

    def counting(params, control):
        seen_jobs.append(params.seed)
        assert engine.service.worker.pending >= 1
        return original(params, control)

    engine.service.runtime.generate = counting
    try:
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(httpx.post, f"{url}/sdapi/v1/txt2img", json={**SMALL, "seed": 100 + i}, timeout=120)
                       for i in range(6)]
            replies = [f.result() for f in futures]
    finally:
        engine.service.runtime.generate = original
    assert [r.status_code for r in replies] == [200] * 6
    assert sorted(json.loads(r.json()["info"])["seed"] for r in replies) == [100 + i for i in range(6)]
    assert sorted(seen_jobs) == [100 + i for i in range(6)]
    assert engine.service.worker.pending == 0


def _start_long_job(url: str, body: dict) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        out["reply"] = httpx.post(f"{url}/sdapi/v1/txt2img", json=body, timeout=300)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_for_step(url: str, minimum: int = 2, timeout: float = 60) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        p = httpx.get(f"{url}/sdapi/v1/progress").json()
        if p["state"]["sampling_step"] >= minimum and p["current_image"]:
            return p
        time.sleep(0.05)
    raise AssertionError("the job did not start")


def test_progress_preview_and_interrupt(engine, url) -> None:
    thread, out = _start_long_job(url, {**SMALL, "steps": 150, "n_iter": 2})
    p = _wait_for_step(url)
    assert p["state"]["job"] == "txt2img" and p["state"]["job_count"] == 2 and p["state"]["sampling_steps"] == 150
    assert 0 < p["progress"] < 1 and p["eta_relative"] > 0 and p["textinfo"].startswith("Step ")
    assert httpx.get(f"{url}/sdapi/v1/progress", params={"skip_current_image": "true"}).json()["current_image"] is None
    assert httpx.post(f"{url}/sdapi/v1/interrupt").status_code == 200
    thread.join(60)
    reply = out["reply"]
    assert reply.status_code == 200
    info = json.loads(reply.json()["info"])
    assert info["interrupted"] is True and len(reply.json()["images"]) <= 1  # the second batch never ran
    assert httpx.get(f"{url}/sdapi/v1/progress").json()["state"]["job"] == ""


def test_skip_moves_on_to_the_next_batch(engine, url) -> None:
    thread, out = _start_long_job(url, {**SMALL, "steps": 60, "n_iter": 2, "seed": 5})
    _wait_for_step(url)
    assert httpx.post(f"{url}/sdapi/v1/skip").status_code == 200
    thread.join(120)
    info = json.loads(out["reply"].json()["info"])
    assert info["interrupted"] is False and info["all_seeds"] == [5, 6]  # skipped batch kept, next one ran


def test_out_of_memory_is_a_clear_error_and_the_engine_keeps_serving(engine, url) -> None:
    runtime = engine.service.runtime
    original = runtime.generate

    def oom(params, control):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    runtime.generate = oom
    try:
        r = httpx.post(f"{url}/sdapi/v1/txt2img", json=SMALL, timeout=60)
    finally:
        runtime.generate = original
    assert r.status_code == 507
    body = r.json()
    assert body["error"] == "out-of-memory" and "Tried to allocate" in body["detail"]
    assert "--vram-mode" in body["hint"]
    assert httpx.post(f"{url}/sdapi/v1/txt2img", json=SMALL, timeout=60).status_code == 200


def test_unexpected_failure_is_reported_not_fatal(engine, url) -> None:
    runtime = engine.service.runtime
    original = runtime.generate
    runtime.generate = lambda params, control: 1 / 0
    try:
        r = httpx.post(f"{url}/sdapi/v1/txt2img", json=SMALL, timeout=60)
    finally:
        runtime.generate = original
    assert r.status_code == 500 and r.json()["error"] == "internal" and "log reference E-" in r.json()["detail"]
    assert "ZeroDivisionError" not in r.text  # the type and text stay in the log
    assert httpx.post(f"{url}/sdapi/v1/txt2img", json=SMALL, timeout=60).status_code == 200
