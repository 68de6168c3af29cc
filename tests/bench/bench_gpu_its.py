"""Benchmark 3: sampling speed (it/s) through the engine against a plain diffusers call, on CUDA.

An SD1.5-sized checkpoint with random weights (the real SD1 config from assets/configs/sd1, in
A1111's single-file layout, fp16) at 512x512, 20 steps, Euler. Both sides load the same file.
it/s is taken from the difference between a 40-step and a 20-step run (20 / (t40 - t20)), which
cancels the fixed costs (text encoding, VAE decode, PNG, HTTP) so only the sampling loop counts;
the whole-request times are printed too. Runs alternate.

    .venv/bin/python tests/bench/bench_gpu_its.py [--rounds 3]

Without CUDA it prints "no CUDA" and exits 0. ``--tiny-cpu`` runs the same code path on the CPU
with the tiny demo config at 64x64 (a self-check of the script, not a benchmark).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine_bench import PROMPT, request_body

STEPS = (20, 40)


def make_checkpoint(home: Any, config: str, dtype: Any) -> Path:
    from engine.models.configs import config_dir
    from engine.models.synth import build_checkpoint, write_checkpoint

    path = home.models_dir("checkpoint") / f"random-{config}.safetensors"
    began = time.perf_counter()
    meta = {"maple.config": "tiny-sd1"} if config == "demo" else {}  # the real sd1 is told by its shapes
    write_checkpoint(path, build_checkpoint(config_dir(config), seed=1, dtype=dtype), meta)
    print(f"wrote {path.name}: {path.stat().st_size / 1e9:.2f} GB in {time.perf_counter() - began:.1f}s", flush=True)
    return path


def plain_pipeline(path: Path, config: str, device: str, dtype: Any) -> Any:
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from engine.models.configs import config_dir, load_tokenizer

    folder = config_dir(config)
    pipe = StableDiffusionPipeline.from_single_file(
        str(path), config=str(folder), tokenizer=load_tokenizer(folder), local_files_only=True, torch_dtype=dtype,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="linspace")
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def time_plain(pipe: Any, size: int, steps: int, device: str) -> float:
    import torch

    sync(device)
    began = time.perf_counter()
    pipe(PROMPT, num_inference_steps=steps, width=size, height=size, guidance_scale=7.0,
         generator=torch.Generator("cpu").manual_seed(7))
    sync(device)
    return time.perf_counter() - began


def engine_client(home: Any, device: str, precision: str, model: str) -> tuple[Any, Any]:
    from fastapi.testclient import TestClient

    from engine import cli
    from engine.server.app import create_app
    from engine.server.runtime import Runtime
    from engine.server.service import EngineService

    config = cli.parse(["--home", str(home.root), "--device", device, "--precision", precision,
                        "--vram-mode", "high", "--model", model], env={}, probe_machine=False)
    service = EngineService(config, Runtime(config))
    app = create_app(service)
    service.start()
    if not service.ready.wait(600):
        raise RuntimeError(f"engine did not start: {service.startup_error!r}")
    return service, TestClient(app, base_url="http://127.0.0.1:7860")  # a Host name the engine answers


def time_engine(client: Any, size: int, steps: int) -> float:
    began = time.perf_counter()
    reply = client.post("/sdapi/v1/txt2img", json=request_body(size, steps, 7))
    reply.raise_for_status()
    return time.perf_counter() - began


def its(times: dict[int, list[float]]) -> float:
    short, long = (statistics.median(times[s]) for s in STEPS)
    return (STEPS[1] - STEPS[0]) / max(long - short, 1e-9)


def measure(pipe: Any, client: Any, size: int, rounds: int, device: str) -> tuple[dict, dict]:
    plain: dict[int, list[float]] = {s: [] for s in STEPS}
    engine: dict[int, list[float]] = {s: [] for s in STEPS}
    for _ in range(rounds):
        for steps in STEPS:
            plain[steps].append(time_plain(pipe, size, steps, device))
            engine[steps].append(time_engine(client, size, steps))
    return plain, engine


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tiny-cpu", action="store_true", help="self-check on the CPU with the tiny demo config")
    args = parser.parse_args()
    import logging

    import torch

    from installer.home import Home

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    if not torch.cuda.is_available() and not args.tiny_cpu:
        print("no CUDA: benchmark 3 needs a CUDA GPU; nothing measured")
        return 0
    device, config, size = ("cpu", "demo", 64) if args.tiny_cpu else ("cuda", "sd1", 512)
    dtype, precision = (torch.float32, "fp32") if args.tiny_cpu else (torch.float16, "fp16")
    card = torch.cuda.get_device_name(0) if device == "cuda" else "CPU (self-check)"
    print(f"card: {card}; torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "home").ensure()
        path = make_checkpoint(home, config, dtype)
        service, client = engine_client(home, device, precision, path.name)
        pipe = plain_pipeline(path, config, device, dtype)
        time_plain(pipe, size, 4, device)  # warm-up (kernels, allocator)
        time_engine(client, size, 4)
        plain, engine = measure(pipe, client, size, args.rounds, device)
        service.stop(5)
    plain_its, engine_its = its(plain), its(engine)
    print(f"{config} random weights, {size}x{size}, {precision}, Euler, steps {STEPS[0]} and {STEPS[1]}, {args.rounds} rounds")
    print(f"plain diffusers: {plain_its:.2f} it/s; 20-step call {statistics.median(plain[20]):.3f}s")
    print(f"engine via API:  {engine_its:.2f} it/s; 20-step request {statistics.median(engine[20]):.3f}s")
    print(f"ratio engine/plain it/s: {engine_its / plain_its:.3f}x (aim >= 1.0x) on {card}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
