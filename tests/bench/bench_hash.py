"""Hashing a 2 GiB model file: Maple's sha256_file against `sha256sum` and a bare hashlib loop.

Run: .venv/bin/python tests/bench/bench_hash.py [--size-mib 2048] [--rounds 5] [--dir DIR]
The file is read once first so every side hashes from the page cache (the same bytes, the same
conditions); each side runs --rounds times, interleaved, and the best time counts.
Aim: Maple >= 0.95 of the bare loop.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from installer.store.hashing import sha256_file, sha256_file_split  # noqa: E402

MIB = 1024 * 1024


def make_file(path: Path, size: int) -> None:
    block = os.urandom(16 * MIB)
    with path.open("wb") as fh:
        left = size
        while left:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n


def bare_loop(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(MIB):
            h.update(chunk)
    return h.hexdigest()


def coreutils(path: Path) -> str:
    return subprocess.run(["sha256sum", str(path)], check=True, capture_output=True, text=True).stdout.split()[0]


def maple(path: Path) -> str:
    return sha256_file(path, progress=lambda done, total: None)


def maple_lora(path: Path) -> str:
    return sha256_file_split(path, 4096, progress=lambda done, total: None)[0]


def timed(fn: Callable[[Path], str], path: Path) -> tuple[float, str]:
    start = time.perf_counter()
    digest = fn(path)
    return time.perf_counter() - start, digest


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    sides: dict[str, Callable[[Path], str]] = {"bare hashlib loop": bare_loop, "maple sha256_file": maple,
                                               "maple split (LoRA)": maple_lora}
    if shutil.which("sha256sum"):
        sides["sha256sum"] = coreutils
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "model.safetensors"
        size = args.size_mib * MIB
        make_file(path, size)
        bare_loop(path)  # warm the page cache
        best: dict[str, float] = {name: float("inf") for name in sides}
        digests = set()
        for _ in range(args.rounds):
            for name, fn in sides.items():
                seconds, digest = timed(fn, path)
                best[name] = min(best[name], seconds)
                digests.add(digest)
        assert len(digests) == 1, f"the sides disagree: {digests}"
    print(f"file: {args.size_mib} MiB, best of {args.rounds} rounds (page cache warm), {os.cpu_count()} CPUs")
    for name, seconds in best.items():
        print(f"  {name:<20} {seconds:7.3f} s  {size / seconds / 1e9:6.2f} GB/s")
    base = best["bare hashlib loop"]
    ratio = base / best["maple sha256_file"]
    print(f"maple / bare loop throughput: {ratio:.3f}  (aim >= 0.95: {'met' if ratio >= 0.95 else 'NOT met'})")
    if "sha256sum" in best:
        print(f"maple / sha256sum throughput: {best['sha256sum'] / best['maple sha256_file']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
