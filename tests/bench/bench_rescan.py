"""Re-scanning 1,000 model files with a warm hash cache (what every start of Maple does).

Run: .venv/bin/python tests/bench/bench_rescan.py [--files 1000] [--rounds 5]
The files have real safetensors headers (LoRAs with ~800 tensors, checkpoints with ~1,100 tensor
names, VAEs), spread over the home and a shared A1111 folder. Sides, in one run:
  cold: first scan of a new home (every header read) plus hashing everything;
  warm, new process: a new ModelStore that loads cache/hashes.json and scans;
  warm, same store: scanning again with the cache already in memory.
Aim: warm rescan < 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from installer.home import Home  # noqa: E402
from installer.store.model_store import ModelStore, State  # noqa: E402


def write_model(path: Path, names: list[str], seed: int) -> None:
    header = {}
    offset = 0
    for name in names:
        header[name] = {"dtype": "F16", "shape": [2], "data_offsets": [offset, offset + 4]}
        offset += 4
    raw = json.dumps(header).encode()
    data = seed.to_bytes(8, "little") * (offset // 8 + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data[:offset])


def lora_names() -> list[str]:
    names = []
    for block in range(100):
        base = f"lora_unet_down_blocks_{block % 4}_attentions_{block % 2}_transformer_blocks_0_attn{block % 3}_to_q_{block}"
        names += [f"{base}.lora_down.weight", f"{base}.lora_up.weight", f"{base}.alpha"]
    for layer in range(12):
        for part in ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"):
            base = f"lora_te_text_model_encoder_layers_{layer}_self_attn_{part}"
            names += [f"{base}.lora_down.weight", f"{base}.lora_up.weight", f"{base}.alpha"]
    return names * 2


def checkpoint_names() -> list[str]:
    names = ["model.diffusion_model.input_blocks.0.0.weight"]
    names += [f"model.diffusion_model.middle_block.{i}.transformer_blocks.0.attn1.to_q.weight" for i in range(700)]
    names += [f"cond_stage_model.transformer.text_model.encoder.layers.{i}.mlp.fc1.weight" for i in range(200)]
    names += [f"first_stage_model.decoder.up.{i}.block.0.conv1.weight" for i in range(230)]
    return names


def build(root: Path, shared: Path, count: int) -> None:
    home = Home(root).ensure()
    lora, ckpt = lora_names(), checkpoint_names()
    vae = [f"encoder.conv_in.weight_{i}" for i in range(1)] + ["encoder.conv_in.weight", "decoder.conv_out.weight"]
    for i in range(count):
        target = home if i % 2 else Home(shared)
        if i % 10 == 0:
            write_model(target.models_dir("checkpoint") / f"ckpt_{i:04d}.safetensors", ckpt, i)
        elif i % 10 == 1:
            write_model(target.models_dir("vae") / f"vae_{i:04d}.safetensors", vae, i)
        else:
            write_model(target.models_dir("lora") / f"style_{i // 100}" / f"lora_{i:04d}.safetensors", lora, i)


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, shared = Path(tmp) / "home", Path(tmp) / "sd-webui"
        build(root, shared, args.files)
        home = Home(root)
        cold_store = ModelStore(home, [str(shared)])
        cold_scan, entries = timed(cold_store.scan)
        cold_hash, _ = timed(cold_store.hash_missing)
        warm_new, warm_same = float("inf"), float("inf")
        for _ in range(args.rounds):
            seconds, entries = timed(lambda: ModelStore(home, [str(shared)]).scan())
            warm_new = min(warm_new, seconds)
            seconds, _ = timed(cold_store.scan)
            warm_same = min(warm_same, seconds)
        assert len(entries) == args.files, len(entries)
        assert all(e.sha256 and e.state is State.UNKNOWN for e in entries)
        cache_kib = (root / "cache" / "hashes.json").stat().st_size / 1024
    print(f"{args.files} model files (home + shared A1111 folder), hash cache {cache_kib:.0f} KiB, best of {args.rounds}")
    print(f"  cold scan (read every header)       {cold_scan:7.3f} s")
    print(f"  cold hashing of all files           {cold_hash:7.3f} s")
    print(f"  warm rescan, new process (load cache) {warm_new:7.3f} s")
    print(f"  warm rescan, same store             {warm_same:7.3f} s")
    print(f"cold scan / warm rescan (new process): {cold_scan / warm_new:.1f}x faster")
    print(f"warm rescan < 0.2 s: {'met' if warm_new < 0.2 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
