"""Benchmark 1: process start to the first finished txt2img through the API, against a bare diffusers
script that loads the same checkpoint file and generates the same image. Runs alternate.

    .venv/bin/python tests/bench/bench_engine_start.py [--rounds 3] [--size 128] [--steps 10]

Aim: engine / bare <= 1.15.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from engine_bench import EngineProc, demo_home, ratios, request_body, run_bare, summary, txt2img


def engine_start_to_image(home_root: Path, size: int, steps: int, seed: int) -> float:
    began = time.perf_counter()
    engine = EngineProc(home_root, "--device", "cpu")
    try:
        if not engine.bound.wait(300):
            raise RuntimeError("engine did not bind:\n" + "\n".join(engine.lines))
        txt2img(engine.url, request_body(size, steps, seed))  # queued behind the start-up: waits for the model
        return time.perf_counter() - began
    finally:
        engine.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    from engine.models.configs import config_dir

    with tempfile.TemporaryDirectory() as tmp:
        home, model = demo_home(Path(tmp) / "home")
        folder = config_dir("demo")
        engine_times, bare_times = [], []
        size_mb = model.stat().st_size / 1e6
        for i in range(args.rounds):
            bare_times.append(run_bare(model, folder, args.size, args.steps, 42, Path(tmp) / f"bare{i}.png"))
            engine_times.append(engine_start_to_image(home.root, args.size, args.steps, 42))
            print(f"round {i + 1}: bare {bare_times[-1]:.2f}s, engine {engine_times[-1]:.2f}s", flush=True)
    print(f"model: {model.name} ({size_mb:.1f} MB), {args.size}x{args.size}, {args.steps} steps, CPU")
    print(summary("bare diffusers script", bare_times))
    print(summary("engine, start to first txt2img via API", engine_times))
    print(ratios("engine/bare", engine_times, bare_times, "aim <= 1.15x"))


if __name__ == "__main__":
    main()
