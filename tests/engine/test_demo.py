"""The embedded demo model: written when the home has none, identical bytes everywhere, generates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.models.demo import DEMO_FILENAME, ensure_demo_model, home_has_checkpoint
from installer.home import Home
from installer.store.modelfile import inspect

# The demo's bytes are part of what users see (its hash is in the model list and infotext).
# Change this only on purpose, when the demo model itself changes.
DEMO_SHA256 = "76575eaa479469aece48dc2b4947350b8c2101fb045c6e782d09cc9366eeedad"


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_demo_is_a_real_a1111_checkpoint(home: Home) -> None:
    assert not home_has_checkpoint(home)
    path = ensure_demo_model(home)
    assert path.name == DEMO_FILENAME and path.parent == home.models_dir("checkpoint")
    header, kind, arch = inspect(path)
    assert (kind, arch) == ("checkpoint", "demo")
    assert header.metadata["maple.demo"] == "1"
    assert "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight" in header.tensors
    assert "first_stage_model.decoder.mid.attn_1.q.weight" in header.tensors
    assert "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight" in header.tensors
    assert path.stat().st_size < 12_000_000
    # the demo alone does not count as "the home has a checkpoint"
    assert not home_has_checkpoint(home)


def test_demo_bytes_are_deterministic(tmp_path: Path) -> None:
    a = ensure_demo_model(Home(tmp_path / "a").ensure())
    b = ensure_demo_model(Home(tmp_path / "b").ensure())
    assert _sha(a) == _sha(b) == DEMO_SHA256


def test_stored_demo_shapes_match_the_demo_config() -> None:
    from engine.models.configs import config_dir
    from engine.models.demo import demo_shapes
    from engine.models.synth import part_shapes

    stored = demo_shapes()
    assert stored is not None
    built = part_shapes(config_dir("demo"))
    assert {n: {k: tuple(v) for k, v in d.items()} for n, d in stored.items()} == built


def test_demo_is_written_fast_without_the_model_classes(tmp_path: Path) -> None:
    """Only torch and safetensors are needed: no diffusers/transformers model built (cold: seconds)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = ("import sys, time; from pathlib import Path; import torch; from engine.models.demo import ensure_demo_model; "
            "t = time.perf_counter(); p = ensure_demo_model(Path(sys.argv[1])); "
            "print(round(time.perf_counter() - t, 2), 'diffusers.models' in sys.modules, "
            "'transformers.models.clip.modeling_clip' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "h")], cwd=root, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    assert out[1:] == ["False", "False"], out
    assert float(out[0]) < 3.0, out
    assert _sha(tmp_path / "h" / "models" / "Stable-diffusion" / DEMO_FILENAME) == DEMO_SHA256


def test_damaged_demo_is_rewritten_and_intact_one_kept(home: Home) -> None:
    path = ensure_demo_model(home)
    good = _sha(path)
    mtime = path.stat().st_mtime_ns
    assert ensure_demo_model(home) == path and path.stat().st_mtime_ns == mtime
    path.write_bytes(path.read_bytes()[:1000])
    ensure_demo_model(home)
    assert _sha(path) == good


def test_other_checkpoint_counts(home: Home) -> None:
    ensure_demo_model(home)
    (home.models_dir("checkpoint") / "real.safetensors").write_bytes(b"x")
    assert home_has_checkpoint(home)


@pytest.mark.slow
def test_demo_generates_noise_image(home: Home) -> None:
    import numpy as np
    import torch

    from engine.models.loader import load_checkpoint

    model = load_checkpoint(ensure_demo_model(home))
    model.pipe.set_progress_bar_config(disable=True)
    out = model.pipe("a cat", num_inference_steps=4, height=64, width=64,
                     generator=torch.Generator().manual_seed(1)).images[0]
    assert out.size == (64, 64)
    pixels = np.asarray(out).astype(float)
    assert pixels.std() > 10  # noise, not a flat image
