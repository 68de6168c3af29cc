"""Upscaling and tiled VAE, measured side by side.

1. Maple's upscale of a 512x512 picture (PIL in, PIL out: the tile planning, blending and
   conversions included) against a bare spandrel call on the same tiny model (tensor in, uint8
   array out). Aim: Maple <= 1.10x. A row with tiling forced (256-pixel tiles) shows its cost.
2. Peak memory of decoding a 2048x2048 picture with the VAE whole against Maple's tiled decode,
   each in a fresh process (peak RSS). ``--real-vae`` uses SD1's real VAE widths (about 17 GB of
   RAM for the whole decode and minutes on a CPU: for a big machine or a GPU); the default is the
   same architecture at the test model's widths.

Run: python tests/bench/bench_upscale.py [--model compact|esrgan] [--rounds 5] [--real-vae] [--skip-vae]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def _model_file(kind: str, folder: Path) -> Path:
    from tests.engine.tinyupscalers import compact_state, esrgan_state, write_safetensors

    state = compact_state(features=16, convs=4, scale=4) if kind == "compact" else esrgan_state(features=16, blocks=1)
    return write_safetensors(folder / f"bench-{kind}-4x.safetensors", state)


def _best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_upscale(kind: str, rounds: int) -> None:
    import spandrel
    import torch

    from engine.generation.upscale import Settings, upscale
    from engine.models.upscalers import Upscaler

    with tempfile.TemporaryDirectory() as tmp:
        path = _model_file(kind, Path(tmp))
        picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8))
        bare_model = spandrel.ModelLoader().load_from_file(str(path)).eval()

        def bare() -> np.ndarray:
            tensor = torch.from_numpy(np.asarray(picture).transpose(2, 0, 1).copy()).float().div(255)[None]
            with torch.inference_mode():
                out = bare_model(tensor)
            return (out[0].permute(1, 2, 0).mul(255).add(0.5).clamp(0, 255).byte().numpy())

        upscaler = Upscaler("bench", path, 4)
        maple = lambda: upscale(picture, upscaler, 4)  # noqa: E731
        tiled = lambda: upscale(picture, upscaler, 4, Settings(tile=256))  # noqa: E731
        for fn in (bare, maple, tiled):
            fn()  # warm-up: model load, allocator
        results: dict[str, list[float]] = {"bare": [], "maple": [], "tiled": []}
        for _ in range(rounds):  # interleaved, so load changes hit all sides alike
            for name, fn in (("bare", bare), ("maple", maple), ("tiled", tiled)):
                results[name].append(_best(fn, 1))
        best = {k: min(v) for k, v in results.items()}
        print(f"upscale 512x512 -> 2048x2048, tiny {kind} model, best of {rounds}:")
        print(f"  bare spandrel call         {best['bare']:.3f} s")
        print(f"  Maple upscale (its budget) {best['maple']:.3f} s   ratio {best['maple'] / best['bare']:.2f}x (aim <= 1.10x)")
        print(f"  Maple, forced 256 tiles    {best['tiled']:.3f} s   ratio {best['tiled'] / best['bare']:.2f}x")


VAE_CHILD = """
import json, resource, sys, time, torch
from diffusers import AutoencoderKL
from engine.models import vae as maple_vae
from installer.machine import vae_memory
config = json.loads(open(sys.argv[1]).read()); tiled = sys.argv[2] == "tiled"
vae = AutoencoderKL.from_config(config).eval()
latents = torch.randn(1, 4, 256, 256, generator=torch.Generator().manual_seed(0)) * 0.18215
if not tiled:
    vae_memory.CPU_WHOLE_PIXELS = 10**12  # decode whole, however large
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
with torch.no_grad():
    pixels = maple_vae.decode(vae, latents)
print(json.dumps({"grew": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) * 1024,
                  "seconds": time.perf_counter() - began, "shape": list(pixels.shape)}))
"""


def _vae_run(config: Path, mode: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", VAE_CHILD, str(config), mode], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=3600)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_vae(real: bool) -> None:
    config = ROOT / "assets" / "configs" / ("sd1" if real else "demo") / "vae" / "config.json"
    whole, tiled = _vae_run(config, "whole"), _vae_run(config, "tiled")
    mib = 1024 * 1024
    label = "SD1's VAE" if real else "the test model's VAE (SD's architecture, narrower)"
    print(f"VAE decode of a 2048x2048 picture with {label}, peak RSS growth in a fresh process:")
    print(f"  whole  {whole['grew'] / mib:8.0f} MiB  {whole['seconds']:6.1f} s")
    print(f"  tiled  {tiled['grew'] / mib:8.0f} MiB  {tiled['seconds']:6.1f} s   "
          f"memory ratio {tiled['grew'] / whole['grew']:.2f}x, time ratio {tiled['seconds'] / whole['seconds']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("compact", "esrgan"), default="compact")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--real-vae", action="store_true")
    parser.add_argument("--skip-vae", action="store_true")
    args = parser.parse_args()
    bench_upscale(args.model, args.rounds)
    if not args.skip_vae:
        bench_vae(args.real_vae)
    print(f"(peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB)")


if __name__ == "__main__":
    main()
