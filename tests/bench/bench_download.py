"""Download benchmarks, each side measured in the same run on the same machine.

1. One 1 GiB file from a local server: Maple (verifying sha256 as it streams) against ``curl -o``
   (no hash). Aim: Maple >= 0.9 of curl's throughput.
2. A local server capping every connection at ~20 MB/s: Maple (several connections) against
   ``aria2c -x8 -s8`` and against a single stream. Aim: Maple >= 0.9 of aria2c.

Run: ``.venv/bin/python tests/bench/bench_download.py [--size-mib 1024] [--capped-mib 256] [--runs 3]``.
aria2c comes from Debian's ``aria2`` package (``apt-get install -y aria2``).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from installer.downloads import DownloadSpec, fetch_file  # noqa: E402

MiB = 1024 * 1024


def make_file(path: Path, size: int) -> str:
    block = os.urandom(16 * MiB)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            chunk = block[: min(left, len(block))]
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


class Server:
    def __init__(self, file: Path, rate: float | None) -> None:
        cmd = [sys.executable, str(ROOT / "tests/installer/fault_server.py"), str(file)]
        if rate:
            cmd += ["--rate", str(rate)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


CPU: dict[str, list[float]] = {}


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(run: Callable[[Path], None], out_dir: Path, size: int, runs: int, name: str = "") -> list[float]:
    """Throughputs (MB/s) of ``runs`` fresh downloads into an empty folder; CPU seconds kept in CPU."""
    speeds = []
    for _ in range(runs):
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        os.sync()  # earlier runs' writeback must not land on this one
        cpu, began = _cpu(), time.perf_counter()
        run(out_dir)
        speeds.append(size / (time.perf_counter() - began) / 1e6)
        CPU.setdefault(name, []).append((_cpu() - cpu) / (size / 2**30))
    shutil.rmtree(out_dir, ignore_errors=True)
    return speeds


def curl(url: str) -> Callable[[Path], None]:
    return lambda d: subprocess.run(["curl", "-s", "-S", "-o", str(d / "out.bin"), url], check=True)


def aria2c(url: str) -> Callable[[Path], None]:
    cmd = ["aria2c", "-x8", "-s8", "-q", "--allow-overwrite=true", "--auto-file-renaming=false"]
    return lambda d: subprocess.run([*cmd, "-d", str(d), "-o", "out.bin", url], check=True)


def maple(url: str, size: int, sha: str, connections: int) -> Callable[[Path], None]:
    def run(d: Path) -> None:
        spec = DownloadSpec([("local", url)], d, "out.safetensors", size, sha, "checkpoint")
        outcome = fetch_file(spec, connections=connections)
        assert outcome.sha256 == sha

    return run


def report(title: str, sides: dict[str, list[float]], base: str) -> None:
    print(f"\n{title}")
    for name, speeds in sides.items():
        cpu = statistics.median(CPU.get(name, [0.0]))
        print(f"  {name:<32} best {max(speeds):7.1f} MB/s  median {statistics.median(speeds):7.1f} MB/s  runs {[round(s) for s in speeds]}  cpu {cpu:.2f} s/GiB")
    for name, speeds in sides.items():
        if name != base:
            print(f"  ratio {name} / {base}: best {max(speeds) / max(sides[base]):.2f}, median {statistics.median(speeds) / statistics.median(sides[base]):.2f}")


def bench_plain(work: Path, size: int, runs: int) -> None:
    src = work / "plain.bin"
    sha = make_file(src, size)
    server = Server(src, None)
    try:
        sides: dict[str, list[float]] = {"curl -o (no hash)": [], "Maple default (8 conn, sha256)": [], "Maple 1 connection (sha256)": []}
        order = [("curl -o (no hash)", curl(server.url)), ("Maple default (8 conn, sha256)", maple(server.url, size, sha, 8)),
                 ("Maple 1 connection (sha256)", maple(server.url, size, sha, 1))]
        timed(maple(server.url, size, sha, 1), work / "out", size, 1, "warm-up")  # first-call costs in this process
        for r in range(runs):  # interleaved and rotated, so load on this machine hits every side alike
            for name, run in order[r % 3 :] + order[: r % 3]:
                sides[name] += timed(run, work / "out", size, 1, name)
    finally:
        server.close()
        src.unlink()
    report(f"Benchmark 1: {size // MiB} MiB from a local server (aim: Maple >= 0.9 x curl)", sides, "curl -o (no hash)")


def bench_capped(work: Path, size: int, rate: float, runs: int) -> None:
    if shutil.which("aria2c") is None:
        print("\nBenchmark 2 skipped: aria2c is missing (install Debian's aria2: apt-get install -y aria2)")
        return
    src = work / "capped.bin"
    sha = make_file(src, size)
    server = Server(src, rate)
    try:
        sides: dict[str, list[float]] = {"aria2c -x8 -s8": [], "Maple default (8 conn, sha256)": []}
        order = [("aria2c -x8 -s8", aria2c(server.url)), ("Maple default (8 conn, sha256)", maple(server.url, size, sha, 8))]
        for r in range(runs):
            for name, run in order[r % 2 :] + order[: r % 2]:
                sides[name] += timed(run, work / "out", size, 1, name)
        sides["Maple single stream (sha256)"] = timed(maple(server.url, size, sha, 1), work / "out", size, 1, "Maple single stream (sha256)")
    finally:
        server.close()
        src.unlink()
    report(f"Benchmark 2: {size // MiB} MiB, server capped at {rate / 1e6:.0f} MB/s per connection (aim: Maple >= 0.9 x aria2c)", sides, "aria2c -x8 -s8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--capped-mib", type=int, default=256)
    parser.add_argument("--rate", type=float, default=20e6, help="per-connection cap in bytes/s (benchmark 2)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["1", "2"])
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(format="    (%(message)s)", stream=sys.stdout)
    logging.getLogger("installer.downloads.fetch").setLevel(logging.INFO)  # says when Maple opens more connections
    print(f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="maple-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "1"):
            bench_plain(work, args.size_mib * MiB, args.runs)
        if args.only in (None, "2"):
            bench_capped(work, args.capped_mib * MiB, args.rate, args.runs)


if __name__ == "__main__":
    main()
