"""Shared pieces of the engine benchmarks: a home with a model, the engine as a process, and the
bare diffusers side (the same file loaded with ``from_single_file`` and the same image generated).

In-process benchmarks (``bench_generate_direct.py``, ``bench_controlnet.py``) take the alternating
timing loop and its printout from here: ``NullControl``, ``alternate`` and ``print_side_by_side``.

Not a benchmark itself (no ``bench_`` prefix): ``bench_engine_start.py``, ``bench_engine_warm.py``,
``bench_gpu_its.py`` and the in-process benchmarks import it.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# Both sides run at once on a few cores (the engine process idles while the bench process works,
# and back). OpenMP's default busy-wait after each parallel region would make the idle process
# steal the other's cores for ~0.2 s; passive waiting measures each side alone. Set before torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

PROMPT = "a photo of a cat"
URL_LINE = re.compile(r"Running on local URL:\s+(http://\S+)")

BARE_SCRIPT = r'''
import sys, time
import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
sys.path.insert(0, {root!r})
from engine.models.configs import load_tokenizer
path, folder, size, steps, seed, device, dtype, out = sys.argv[1:9]
dtype = getattr(torch, dtype)
pipe = StableDiffusionPipeline.from_single_file(
    path, config=folder, tokenizer=load_tokenizer(__import__("pathlib").Path(folder)), local_files_only=True,
    torch_dtype=dtype, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="linspace")
pipe.set_progress_bar_config(disable=True)
pipe.to(device)
image = pipe({prompt!r}, num_inference_steps=int(steps), width=int(size), height=int(size), guidance_scale=7.0,
             generator=torch.Generator("cpu").manual_seed(int(seed))).images[0]
image.save(out)
print("DONE", flush=True)
'''


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quiet_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "DIFFUSERS_VERBOSITY": "error",
            "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


def demo_home(root: Path) -> tuple[Any, Path]:
    """A home holding the demo model (written once, outside the timed part)."""
    from engine.models.demo import ensure_demo_model
    from installer.home import Home

    home = Home(root).ensure()
    return home, ensure_demo_model(home)


def request_body(size: int, steps: int, seed: int) -> dict[str, Any]:
    return {"prompt": PROMPT, "width": size, "height": size, "steps": steps, "seed": seed,
            "sampler_name": "Euler", "cfg_scale": 7.0}


class EngineProc:
    def __init__(self, home_root: Path, *flags: str) -> None:
        self.port = free_port()
        cmd = [sys.executable, "-m", "engine", "--home", str(home_root), "--port", str(self.port), *flags]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=quiet_env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = ""
        self.bound = threading.Event()
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            match = URL_LINE.search(line)
            if match and not self.bound.is_set():
                self.url = match.group(1)
                self.bound.set()

    def stop(self) -> None:
        import httpx

        try:
            httpx.post(f"{self.url}/maple/v1/shutdown", timeout=5)
            self.proc.wait(15)
        except Exception:
            self.proc.kill()
            self.proc.wait(10)


_CLIENT: Any = None


def client() -> Any:
    """One kept-alive HTTP client, as API users have (a new httpx client costs ~30-50 ms of TLS set-up)."""
    global _CLIENT
    if _CLIENT is None:
        import httpx

        _CLIENT = httpx.Client()
    return _CLIENT


def txt2img(url: str, body: dict[str, Any], timeout: float = 600) -> dict[str, Any]:
    reply = client().post(f"{url}/sdapi/v1/txt2img", json=body, timeout=timeout)
    reply.raise_for_status()
    result: dict[str, Any] = reply.json()
    return result


def run_bare(model: Path, folder: Path, size: int, steps: int, seed: int, out: Path,
             device: str = "cpu", dtype: str = "float32") -> float:
    """Seconds from process start to the bare script's finished image."""
    script = BARE_SCRIPT.format(root=str(ROOT), prompt=PROMPT)
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", script, str(model), str(folder), str(size), str(steps),
                             str(seed), device, dtype, str(out)], env=quiet_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("DONE"):
            elapsed = time.perf_counter() - began
            proc.wait(60)
            return elapsed
    raise RuntimeError(f"bare script failed: {proc.stderr.read() if proc.stderr else ''}")


def summary(name: str, values: list[float]) -> str:
    runs = ", ".join(f"{v:.3f}" for v in values)
    return f"{name}: median {statistics.median(values):.3f}s, best {min(values):.3f}s  (runs: {runs})"


def ratios(label: str, ours: list[float], theirs: list[float], aim: str) -> str:
    med = statistics.median(ours) / statistics.median(theirs)
    best = min(ours) / min(theirs)
    return f"ratio {label}: {med:.3f}x by medians, {best:.3f}x by best runs ({aim})"


class NullControl:
    """A job control that never interrupts and ignores the step reports."""

    def on_step(self, image_index: int, step: int, total_steps: int, latents: Any) -> None:
        pass

    def should_interrupt(self) -> bool:
        return False

    def should_skip(self) -> bool:
        return False

    def clear_skip(self) -> None:
        pass


def alternate(sides: Mapping[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds of each side's runs: one warm-up run of each, then ``rounds`` rounds of one run each."""
    for fn in sides.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def print_side_by_side(theirs: tuple[str, list[float]], ours: tuple[str, list[float]], ratio_label: str) -> None:
    """The torch threads and rounds, both sides' medians in ms and ours/theirs, the values aligned."""
    import torch

    (their_label, their_times), (our_label, our_times) = theirs, ours
    d, e = statistics.median(their_times), statistics.median(our_times)
    lines = [(f"{their_label}:", f"{d * 1000:.1f} ms (median)"), (f"{our_label}:", f"{e * 1000:.1f} ms (median)"),
             (f"ratio {ratio_label}:", f"{e / d:.3f}x")]
    width = max(len(label) for label, _ in lines) + 1
    print(f"torch threads: {torch.get_num_threads()}, rounds: {len(our_times)}")
    for label, value in lines:
        print(f"{label:<{width}}{value}")
