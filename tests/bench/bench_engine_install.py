"""First-run engine install from a local package index: Maple's installer against a plain pip install.

Both sides install the same wheels from the same local PEP 503 index (served by this script over
HTTP): Maple resolves (pip), downloads with its own resumable, verified downloader, unpacks into a
staging folder (pip or uv), checks the result in a child process and swaps it in; the baseline is
one ``pip install --target`` (and ``uv pip install --target``) of the same requirements, which does
none of the checking. Printed: seconds per side (median of --runs) and the ratios.

Run: ``.venv/bin/python tests/bench/bench_engine_install.py [--wheels DIR] [--runs 3]``
``--wheels``: a folder of real wheels (e.g. from ``pip download``; a torch ``+cpu`` wheel among them
makes the check import real torch). Without it, fake wheels of ``--fake-mib`` MiB are made.
uv comes from the ``uv`` PyPI package (``pip install uv`` into the same venv) and is skipped without it.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from installer.engine_install import tools  # noqa: E402
from installer.engine_install.builds import CPU  # noqa: E402
from installer.engine_install.choice import Choice, Outcome  # noqa: E402
from installer.engine_install.install import InstallRequest, install_engine  # noqa: E402
from installer.engine_install.location import Layout  # noqa: E402
from tests.installer.fault_server import FaultServer  # noqa: E402
from tests.installer.wheel_index import LocalIndex, fake_package, fake_torch, fake_torchvision  # noqa: E402


def wheel_pins(folder: Path) -> list[str]:
    pins = []
    for wheel in sorted(folder.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        if name.lower() not in ("torch", "torchvision"):
            pins.append(f"{re.sub(r'[_.]+', '-', name).lower()}=={version}")
    return pins


def prepare(args: argparse.Namespace, work: Path) -> Path:
    folder = work / "wheels"
    folder.mkdir()
    if args.wheels:
        for wheel in Path(args.wheels).glob("*.whl"):
            shutil.copy2(wheel, folder / wheel.name)
    else:
        fake_torch(folder, "cpu", cuda=False, padding=args.fake_mib * 1024 * 1024)
        fake_package(folder, "diffusers", "0.42.1")
        for i in range(20):
            fake_package(folder, f"dep{i}", "1.0")
    if not list(folder.glob("torchvision-*")):
        fake_torchvision(folder, "cpu")
    if not list(folder.glob("diffusers-*")):
        fake_package(folder, "diffusers", "0.42.1")
    return folder


def maple(index: LocalIndex, pins: list[str], target: Path, tool: str) -> float:
    choice = Choice(Outcome.CPU, CPU, "cpu.none")
    request = InstallRequest(choice, Layout(target), tools.Indexes(index.url, index.url), tuple(pins), None, tool)
    start = time.perf_counter()
    install_engine(request, lambda _p: None, threading.Event())
    return time.perf_counter() - start


def plain(index: LocalIndex, pins: list[str], target: Path, tool: str) -> float:
    reqs = ["torch==2.13.0+cpu", "torchvision==0.28.0+cpu", *pins]
    if tool == "uv":
        uv = tools.uv_binary()
        assert uv is not None
        cmd = [uv, "pip", "install", "--no-config", "--no-cache", "--quiet", "--python", sys.executable,
               "--target", str(target), "--index-url", index.url, *reqs]
    else:
        cmd = [sys.executable, "-m", "pip", "install", "--isolated", "--no-cache-dir", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--target", str(target), "--index-url", index.url, *reqs]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=tools.clean_env())
    return time.perf_counter() - start


def measure(fn, runs: int, work: Path, *a: object) -> float:  # type: ignore[no-untyped-def]
    times = []
    for i in range(runs):
        target = work / f"t-{fn.__name__}-{a[-1]}-{i}"
        times.append(fn(*a[:-1], target, a[-1]))
        shutil.rmtree(target, ignore_errors=True)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", default=None)
    parser.add_argument("--fake-mib", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-engine-install-") as tmp, FaultServer() as server:
        work = Path(tmp)
        folder = prepare(args, work)
        index = LocalIndex(server)
        for wheel in sorted(folder.glob("*.whl")):
            index.add(wheel)
        pins = wheel_pins(folder)
        size = sum(w.stat().st_size for w in folder.glob("*.whl"))
        print(f"{len(list(folder.glob('*.whl')))} wheels, {size / 2**20:.0f} MiB, {args.runs} runs each (median)")
        tools_here = ["pip"] + (["uv"] if tools.uv_binary() else [])
        results = {}
        for tool in tools_here:
            results[("plain", tool)] = measure(plain, args.runs, work, index, pins, tool)
            results[("maple", tool)] = measure(maple, args.runs, work, index, pins, tool)
        for (side, tool), seconds in results.items():
            print(f"  {side:5s} {tool:3s} {seconds:7.2f} s")
        base = results[("plain", "pip")]
        for tool in tools_here:
            print(f"maple({tool}) / plain pip install: {results[('maple', tool)] / base:.2f}x")
        if "uv" in tools_here:
            print(f"plain uv / plain pip install: {results[('plain', 'uv')] / base:.2f}x")


if __name__ == "__main__":
    main()
