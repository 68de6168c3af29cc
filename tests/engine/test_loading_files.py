"""Loading .ckpt files safely, diffusers folders, damaged checkpoints, and switching models."""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np
import pytest

from engine.models.errors import PickleRefusedError
from engine.models.loader import load_checkpoint, switch_model
from installer.errors import BrokenModelError, ModelNotFoundError
from tests.engine.tinymodels import refuse_sockets, write_ckpt, write_tiny_checkpoint


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return refuse_sockets(monkeypatch)


class Payload:
    """Pickles into a call that creates a file: proof of whether unpickling ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def image(model) -> np.ndarray:
    import torch

    model.pipe.set_progress_bar_config(disable=True)
    return model.pipe("a cat", num_inference_steps=1, height=64, width=64, output_type="np",
                      generator=torch.Generator().manual_seed(4)).images[0]


def test_tensor_only_ckpt_loads_like_the_safetensors(tmp_path: Path, no_network) -> None:
    a = load_checkpoint(write_tiny_checkpoint(tmp_path / "m.safetensors", "sd1"))
    b = load_checkpoint(write_ckpt(tmp_path / "m.ckpt", "sd1"))
    assert (b.arch, b.format) == ("sd1", "ckpt")
    assert np.array_equal(image(a), image(b))
    assert no_network == []


def test_ckpt_with_pickled_code_is_refused_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "payload-ran"
    path = write_ckpt(tmp_path / "evil.ckpt", "sd1", payload=Payload(marker))
    with pytest.raises(PickleRefusedError) as err:
        load_checkpoint(path)
    assert not marker.exists()
    assert err.value.code == "pickle-refused" and "--allow-pickle" in err.value.hint
    model = load_checkpoint(path, allow_pickle=True)  # the user said they trust it
    assert marker.exists() and model.arch == "sd1"


def test_damaged_ckpt_is_broken(tmp_path: Path) -> None:
    path = write_ckpt(tmp_path / "cut.ckpt", "sd1")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BrokenModelError):
        load_checkpoint(path)


def test_checkpoint_missing_tensors_is_named_broken(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    full = write_tiny_checkpoint(tmp_path / "full.safetensors", "sd1")
    state = load_file(str(full))
    del state["model.diffusion_model.out.2.weight"]
    save_file(state, str(tmp_path / "partial.safetensors"), metadata={"maple.config": "tiny-sd1"})
    with pytest.raises(BrokenModelError, match="lacks weights.*model.diffusion_model.out.2.weight"):
        load_checkpoint(tmp_path / "partial.safetensors")


def test_wrong_shapes_are_broken_not_a_crash(tmp_path: Path) -> None:
    path = write_tiny_checkpoint(tmp_path / "mismatch.safetensors", "sd1", metadata={"maple.config": "tiny-sd1-inpaint"})
    with pytest.raises(BrokenModelError, match="does not load"):
        load_checkpoint(path)


def test_diffusers_folder_loads_offline(tmp_path: Path, no_network) -> None:
    source = load_checkpoint(write_tiny_checkpoint(tmp_path / "m.safetensors", "sd1"))
    folder = tmp_path / "my-model"
    source.pipe.save_pretrained(str(folder))
    model = load_checkpoint(folder)
    assert (model.arch, model.format, model.sha256) == ("sd1", "diffusers", None)
    assert np.array_equal(image(model), image(source))
    assert no_network == []


def test_failed_switch_keeps_the_current_model_working(tmp_path: Path) -> None:
    current = load_checkpoint(write_tiny_checkpoint(tmp_path / "a.safetensors", "sd1"))
    before = image(current)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n")
    with pytest.raises(BrokenModelError, match="git-LFS"):
        switch_model(current, broken)
    with pytest.raises(ModelNotFoundError):
        switch_model(current, tmp_path / "gone.safetensors")
    assert np.array_equal(image(current), before)


def test_switch_frees_the_old_model(tmp_path: Path) -> None:
    old = load_checkpoint(write_tiny_checkpoint(tmp_path / "a.safetensors", "sd1"))
    unet = weakref.ref(old.pipe.unet)
    new = switch_model(old, write_tiny_checkpoint(tmp_path / "b.safetensors", "sd1", seed=1))
    assert old.pipe is None
    assert unet() is None or all(p.is_meta for p in unet().parameters())
    assert new.name == "b.safetensors" and image(new).shape == (64, 64, 3)


def test_extra_keys_of_real_a1111_files_are_accepted(tmp_path: Path) -> None:
    """position_ids (often as float), EMA counters and the noise schedule sit in many real files."""
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(write_tiny_checkpoint(tmp_path / "plain.safetensors", "sd1")))
    state["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(77.0).unsqueeze(0)
    state["model_ema.decay"] = torch.tensor(0.9999)
    state["model_ema.num_updates"] = torch.tensor(10, dtype=torch.int32)
    state["alphas_cumprod"] = torch.ones(1000)
    save_file(state, str(tmp_path / "real-like.safetensors"), metadata={"maple.config": "tiny-sd1"})
    model = load_checkpoint(tmp_path / "real-like.safetensors")
    assert model.pipe.tokenizer("a cat").input_ids == [49406, 320, 2368, 49407]
    assert image(model).shape == (64, 64, 3)
