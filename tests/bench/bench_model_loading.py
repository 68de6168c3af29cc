"""Model loading, side by side in one run: Maple's loader against bare diffusers on the same file.

    .venv/bin/python tests/bench/bench_model_loading.py

1. load the demo checkpoint: ``load_checkpoint`` vs ``from_single_file`` with the same config
   folder and tokenizer (alternating, median of N);
2. generate 64x64, 10 steps with the demo model on the CPU (the "well under a second" target);
3. apply a LoRA the first time (read from disk) vs again after removal (from the file cache).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

N = 5


def bare_load(path: Path):
    import torch
    from diffusers import StableDiffusionPipeline

    from engine.models.configs import config_dir, load_tokenizer

    folder = config_dir("demo")
    return StableDiffusionPipeline.from_single_file(
        str(path), config=str(folder), local_files_only=True, torch_dtype=torch.float32,
        tokenizer=load_tokenizer(folder), safety_checker=None, feature_extractor=None,
        requires_safety_checker=False)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    import torch

    from engine.models.demo import ensure_demo_model
    from engine.models.loader import load_checkpoint
    from engine.models.lora import FILE_CACHE, apply_loras
    from installer.home import Home
    from tests.engine.tinymodels import write_tiny_lora

    tmp = Path(tempfile.mkdtemp())
    home = Home(tmp / "home").ensure()
    path = ensure_demo_model(home)
    load_checkpoint(path)  # warm imports and caches for both sides
    bare_load(path)
    ours, bare = [], []
    for _ in range(N):
        ours.append(timed(lambda: load_checkpoint(path, sha256="0" * 64)))
        bare.append(timed(lambda: bare_load(path)))
    mo, mb = statistics.median(ours), statistics.median(bare)
    print(f"load demo: maple {mo * 1000:.0f} ms, bare diffusers {mb * 1000:.0f} ms, ratio {mo / mb:.2f}x")

    model = load_checkpoint(path)
    model.pipe.set_progress_bar_config(disable=True)

    def gen() -> None:
        model.pipe("a cat", num_inference_steps=10, height=64, width=64,
                   generator=torch.Generator().manual_seed(1))

    gen()
    runs = [timed(gen) for _ in range(N)]
    print(f"demo 64x64, 10 steps, CPU ({torch.get_num_threads()} threads): median {statistics.median(runs):.2f} s")

    lora = write_tiny_lora(tmp / "style.safetensors")
    first = timed(lambda: apply_loras(model, [(lora, 1.0)]))
    apply_loras(model, [])
    reads = FILE_CACHE.reads
    again = timed(lambda: apply_loras(model, [(lora, 1.0)]))
    print(f"LoRA apply: first {first * 1000:.0f} ms, again from cache {again * 1000:.0f} ms "
          f"(file reads during the second: {FILE_CACHE.reads - reads}), ratio {again / first:.2f}x")


if __name__ == "__main__":
    main()
