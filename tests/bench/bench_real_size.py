"""Full-size SD1.5: a random-weight checkpoint with the real tensor names and shapes, loaded offline.

    .venv/bin/python tests/bench/bench_real_size.py [sd1|sd1-inpaint|sd2|sdxl]

Writes a single-file checkpoint in A1111's layout from Maple's config folder (about 2.1 GB for
SD1.5, fp16, in a temporary folder, removed afterwards), then with every socket refused loads it
with Maple's loader and with bare ``from_single_file`` (same config folder and tokenizer), and
prints both times, the ratio, the CLIP ids of a prompt and one 64x64 denoising step.
"""

from __future__ import annotations

import gc
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def refuse_network() -> None:
    def refuse(*_a, **_k):
        raise OSError("network refused by the benchmark")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.getaddrinfo = refuse  # type: ignore[assignment]
    socket.create_connection = refuse  # type: ignore[assignment]


def write_full_size(arch: str, path: Path) -> int:
    import torch

    from engine.models.configs import config_dir
    from engine.models.synth import instantiate, ldm_state_dict, model_names, write_checkpoint

    folder = config_dir(arch)
    parts = {}
    gen = torch.Generator().manual_seed(0)
    for name in model_names(folder):
        shapes = instantiate(folder, name, device="meta").state_dict()
        parts[name] = {k: _fill(k, v.shape, gen) for k, v in shapes.items()}
    state = ldm_state_dict(folder, parts)
    write_checkpoint(path, {k: v.contiguous() for k, v in state.items()})
    return len(state)


def _fill(key: str, shape, gen):
    import torch

    if key.endswith("bias"):
        return torch.zeros(shape, dtype=torch.float16)
    if len(shape) == 1:
        return torch.ones(shape, dtype=torch.float16)
    fan_in = max(1, int(torch.tensor(shape[1:]).prod().item()))
    return (torch.randn(shape, generator=gen, dtype=torch.float16) * (1.0 / fan_in ** 0.5)).to(torch.float16)


def bare(arch: str, path: Path):
    import diffusers
    import torch

    from engine.models.configs import PIPELINE_CLASS, components, config_dir, load_tokenizer

    folder = config_dir(arch)
    toks = {n: load_tokenizer(folder, n) for n in components(folder) if n.startswith("tokenizer")}
    extra = {} if "XL" in PIPELINE_CLASS[arch] else {"safety_checker": None, "feature_extractor": None,
                                                      "requires_safety_checker": False}
    cls = getattr(diffusers, PIPELINE_CLASS[arch])
    return cls.from_single_file(str(path), config=str(folder), local_files_only=True,
                                torch_dtype=torch.float16, **toks, **extra)


def main() -> None:
    arch = sys.argv[1] if len(sys.argv) > 1 else "sd1"
    import torch

    from engine.models.loader import load_checkpoint, unload

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"full-{arch}.safetensors"
        start = time.perf_counter()
        count = write_full_size(arch, path)
        gc.collect()
        print(f"wrote {path.name}: {count} tensors, {path.stat().st_size:,} bytes in {time.perf_counter() - start:.1f}s")
        refuse_network()
        start = time.perf_counter()
        model = load_checkpoint(path, dtype="fp16", sha256="0" * 64)
        ours = time.perf_counter() - start
        ids = model.pipe.tokenizer("a photo of a cat").input_ids
        model.pipe.set_progress_bar_config(disable=True)
        step = time.perf_counter()
        kwargs = {"image": None} if arch == "sd1-inpaint" else {}
        if not kwargs:
            model.pipe("a photo of a cat", num_inference_steps=1, height=64, width=64, output_type="latent",
                       generator=torch.Generator().manual_seed(1))
        step = time.perf_counter() - step
        unload(model)
        gc.collect()
        start = time.perf_counter()
        pipe = bare(arch, path)
        theirs = time.perf_counter() - start
        del pipe
        print(f"{arch}: maple load {ours:.2f}s, bare from_single_file {theirs:.2f}s, ratio {ours / theirs:.2f}x; "
              f"ids {ids}; one 64x64 step {step:.2f}s; no network used")


if __name__ == "__main__":
    main()
