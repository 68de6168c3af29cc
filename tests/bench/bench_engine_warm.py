"""Benchmark 2: a warm txt2img through the engine's HTTP API against the direct pipeline call on the
same checkpoint, alternating, same size/steps/seed/sampler.

    .venv/bin/python tests/bench/bench_engine_warm.py [--rounds 8] [--size 128] [--steps 20]

The API side includes what users get: prompt parsing, saving the PNG with its infotext, and the
base64 PNG in the JSON reply. Aim: API / direct <= 1.10.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from engine_bench import PROMPT, EngineProc, demo_home, ratios, request_body, summary, txt2img


def direct_pipeline(model: Path) -> object:
    import torch
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from engine.models.configs import config_dir, load_tokenizer

    folder = config_dir("demo")
    pipe = StableDiffusionPipeline.from_single_file(
        str(model), config=str(folder), tokenizer=load_tokenizer(folder), local_files_only=True,
        torch_dtype=torch.float32, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="linspace")
    pipe.set_progress_bar_config(disable=True)
    return pipe


def direct_call(pipe, size: int, steps: int, seed: int) -> float:  # type: ignore[no-untyped-def]
    import torch

    began = time.perf_counter()
    pipe(PROMPT, num_inference_steps=steps, width=size, height=size, guidance_scale=7.0,
         generator=torch.Generator("cpu").manual_seed(seed))
    return time.perf_counter() - began


def api_call(url: str, size: int, steps: int, seed: int) -> float:
    began = time.perf_counter()
    txt2img(url, request_body(size, steps, seed))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home, model = demo_home(Path(tmp) / "home")
        engine = EngineProc(home.root, "--device", "cpu")
        try:
            engine.bound.wait(300)
            pipe = direct_pipeline(model)
            api_call(engine.url, args.size, args.steps, 1)  # warm both
            direct_call(pipe, args.size, args.steps, 1)
            api_times, direct_times = [], []
            for i in range(args.rounds):
                api_times.append(api_call(engine.url, args.size, args.steps, 7))
                direct_times.append(direct_call(pipe, args.size, args.steps, 7))
                print(f"round {i + 1}: direct {direct_times[-1]:.3f}s, api {api_times[-1]:.3f}s", flush=True)
        finally:
            engine.stop()
    print(f"model: {model.name}, {args.size}x{args.size}, {args.steps} steps, Euler, CPU")
    print(summary("direct pipeline call", direct_times))
    print(summary("engine txt2img via HTTP API", api_times))
    print(ratios("api/direct", api_times, direct_times, "aim <= 1.10x"))


if __name__ == "__main__":
    main()
