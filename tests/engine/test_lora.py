"""LoRAs on a real tiny model: weight 0 is exact, LDM block names work, files are read once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.jobs import LoraRef
from engine.models.errors import LoraError
from engine.models.loader import load_checkpoint
from engine.models.lora import FILE_CACHE, apply_loras
from engine.models.lora_keys import remap_ldm_lora, uses_ldm_names
from installer.store.hashing import sha256_file
from installer.store.modelfile import read_header
from tests.engine.tinymodels import (
    write_diffusers_lora,
    write_tiny_checkpoint,
    write_tiny_lora,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lora")
    return load_checkpoint(write_tiny_checkpoint(folder / "base.safetensors", "sd1"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loras")
    return {
        "kohya": write_tiny_lora(folder / "kohya.safetensors"),
        "ldm": write_tiny_lora(folder / "ldm.safetensors", ldm_names=True),
        "other": write_tiny_lora(folder / "other.safetensors", seed=11),
        "diffusers": write_diffusers_lora(folder / "diffusers.safetensors"),
    }


def image(model) -> np.ndarray:
    import torch

    model.pipe.set_progress_bar_config(disable=True)
    return model.pipe("a cat", num_inference_steps=1, height=64, width=64, output_type="np",
                      generator=torch.Generator().manual_seed(5)).images[0]


@pytest.fixture(scope="module")
def base(model) -> np.ndarray:
    apply_loras(model, [])
    return image(model)


def test_weight_zero_is_exactly_the_base_and_one_differs(model, files, base) -> None:
    apply_loras(model, [(files["kohya"], 0.0)])
    assert np.array_equal(image(model), base)
    apply_loras(model, [(files["kohya"], 1.0)])
    strong = image(model)
    assert np.abs(strong - base).max() > 1e-3
    apply_loras(model, [(files["kohya"], 0.5)])
    half = image(model)
    assert not np.array_equal(half, strong) and not np.array_equal(half, base)


def test_removed_when_no_longer_asked_for(model, files, base) -> None:
    apply_loras(model, [(files["kohya"], 1.0)])
    apply_loras(model, [])
    assert np.array_equal(image(model), base)
    assert model.applied_loras == {} and model.loras.loaded == {}


def test_ldm_block_names_load_like_diffusers_names(model, files) -> None:
    import safetensors.torch

    ldm = safetensors.torch.load_file(str(files["ldm"]))
    assert uses_ldm_names(ldm)
    remapped = remap_ldm_lora(ldm, model.pipe.unet.config)
    assert set(remapped) == set(safetensors.torch.load_file(str(files["kohya"])))
    apply_loras(model, [(files["kohya"], 1.0)])
    a = image(model)
    apply_loras(model, [(files["ldm"], 1.0)])
    assert np.array_equal(image(model), a)


def test_several_at_once_and_diffusers_format(model, files, base) -> None:
    apply_loras(model, [(files["kohya"], 1.0)])
    one = image(model)
    apply_loras(model, [(files["kohya"], 1.0), (files["other"], 0.8), (files["diffusers"], 1.0)])
    three = image(model)
    assert not np.array_equal(one, three)
    assert len(model.loras.loaded) == 3
    assert model.applied_loras == {"kohya": 1.0, "other": 0.8, "diffusers": 1.0}
    apply_loras(model, [(files["diffusers"], 1.0)])
    assert not np.array_equal(image(model), base)


def test_files_are_read_once_and_hashes_recorded(model, files) -> None:
    apply_loras(model, [(files["other"], 1.0)])
    apply_loras(model, [])
    reads = FILE_CACHE.reads
    for _ in range(3):
        apply_loras(model, [(files["other"], 1.0)])
        apply_loras(model, [(files["other"], 0.3)])
        apply_loras(model, [])
    assert FILE_CACHE.reads == reads
    ref = LoraRef(name="myStyle", weight=0.7, path=str(files["other"]))
    apply_loras(model, [ref])
    expected = sha256_file(files["other"], start=read_header(files["other"]).data_offset)[:12]
    assert model.lora_hashes == {"myStyle": expected}
    assert model.applied_loras == {"myStyle": 0.7}


def test_bad_lora_is_a_clear_error_and_model_keeps_working(model, files, base, tmp_path: Path) -> None:
    apply_loras(model, [])
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(files["kohya"].read_bytes()[:-100])
    with pytest.raises(LoraError, match="truncated"):
        apply_loras(model, [(broken, 1.0)])
    with pytest.raises(LoraError, match="not found"):
        apply_loras(model, [(tmp_path / "missing.safetensors", 1.0)])
    apply_loras(model, [])
    assert np.array_equal(image(model), base)


def test_text_encoder_only_lora_changes_the_prompt_encoding(model, tmp_path: Path) -> None:
    import torch

    te_only = write_tiny_lora(tmp_path / "te.safetensors", unet_layers=False, scale=2.0)
    tokens = model.pipe.tokenizer("a cat", return_tensors="pt").input_ids
    apply_loras(model, [])
    with torch.no_grad():
        before = model.pipe.text_encoder(tokens)[0]
        apply_loras(model, [(te_only, 1.0)])
        after = model.pipe.text_encoder(tokens)[0]
    wrapped = {n.rsplit(".", 1)[0] for n, _ in model.pipe.text_encoder.named_modules() if n.endswith("lora_A")}
    assert {"encoder.layers.0.self_attn.q_proj", "encoder.layers.1.mlp.fc1"} <= wrapped
    assert not torch.equal(before, after)
    apply_loras(model, [])


@pytest.mark.parametrize("variant", ["sdxl", "sd2"])
def test_other_architectures_take_kohya_loras_with_either_block_names(tmp_path: Path, variant: str) -> None:
    from engine.models.synth import write_checkpoint
    from tests.engine.tinymodels import kohya_lora_for

    model = load_checkpoint(write_tiny_checkpoint(tmp_path / f"{variant}.safetensors", variant))
    plain = write_checkpoint(tmp_path / "plain.safetensors", kohya_lora_for(variant))
    ldm = write_checkpoint(tmp_path / "ldm.safetensors", kohya_lora_for(variant, ldm_names=True))
    base = image(model)
    apply_loras(model, [(plain, 1.0)])
    with_plain = image(model)
    assert not np.array_equal(with_plain, base)
    apply_loras(model, [(ldm, 1.0)])
    assert np.array_equal(image(model), with_plain)
    encoders = [model.pipe.text_encoder] + ([model.pipe.text_encoder_2] if variant == "sdxl" else [])
    for te in encoders:
        assert any(n.endswith("q_proj.lora_A") for n, _ in te.named_modules())
    apply_loras(model, [(ldm, 0.0)])
    assert np.array_equal(image(model), base)
