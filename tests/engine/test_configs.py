"""The shipped config folders describe the real models: names, shapes, parameter counts, tokenizer.

No weights are downloaded: the models are built from the configs on the meta device, their keys
converted to A1111's single-file names, written as header-only files and read back.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from engine.models.configs import (
    CONFIGS_ROOT,
    check_config_dir,
    components,
    config_dir,
    load_tokenizer,
)
from engine.models.errors import ConfigMissingError
from engine.models.synth import instantiate, ldm_state_dict, model_names
from installer.store.modelfile import inspect
from tests.engine.tinymodels import write_header_only

# The project's shared folder sits beside the checkout; the parameter counts below need no files.
REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference-configs"
REF_NAMES = {"sd1": "sd15", "sd1-inpaint": "sd15-inpainting", "sd2": "sd21", "sdxl": "sdxl-base",
             "sdxl-refiner": "sdxl-refiner"}
ARCHS = list(REF_NAMES)
# Parameter counts of the real models (millions, one decimal), from the reference repositories.
PARAMS_M = {
    ("sd1", "unet"): 859.5, ("sd1", "vae"): 83.7, ("sd1", "text_encoder"): 123.1,
    ("sd2", "unet"): 865.9, ("sd2", "text_encoder"): 340.4,
    ("sdxl", "unet"): 2567.5, ("sdxl", "text_encoder_2"): 694.7,
    ("sdxl-refiner", "unet"): 2259.5,
}
needs_reference = pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference configs not on this machine")


def meta_state(arch: str, name: str) -> dict:
    return instantiate(config_dir(arch), name, device="meta").state_dict()


@pytest.mark.parametrize(("arch", "name"), list(PARAMS_M))
def test_parameter_counts_match_the_real_models(arch: str, name: str) -> None:
    count = sum(t.numel() for t in meta_state(arch, name).values())
    assert round(count / 1e6, 1) == PARAMS_M[(arch, name)]


@needs_reference
@pytest.mark.parametrize("arch", ARCHS)
def test_config_files_equal_the_reference_repositories(arch: str) -> None:
    ref = REFERENCE / REF_NAMES[arch]
    ours = config_dir(arch)
    compared = 0
    for ref_file in ref.rglob("*.json"):
        rel = ref_file.relative_to(ref)
        if rel.parts[0] in ("safety_checker", "feature_extractor"):
            continue
        expected = json.loads(ref_file.read_text())
        got = json.loads((ours / rel).read_text())
        if rel.name == "model_index.json":
            for optional in ("safety_checker", "feature_extractor"):
                if optional in expected:
                    assert got.pop(optional) == [None, None]
                    expected.pop(optional)
            got.pop("requires_safety_checker", None)
            expected.pop("requires_safety_checker", None)
        assert got == expected, rel
        compared += 1
    assert compared >= 6


def sd15_a1111_keys() -> dict:
    folder = config_dir("sd1")
    return ldm_state_dict(folder, {n: meta_state("sd1", n) for n in model_names(folder)})


def test_sd15_single_file_key_list_is_the_real_one(tmp_path: Path) -> None:
    ldm = sd15_a1111_keys()
    assert len(ldm) == 1130  # tensors in the real pruned SD1.5 files
    data_bytes = sum(t.numel() for t in ldm.values()) * 2
    assert abs(data_bytes - 2_132_626_102) < 200_000  # the real fp16 file's size, header included
    for key, shape in {
        "model.diffusion_model.input_blocks.0.0.weight": (320, 4, 3, 3),
        "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (320, 768),
        "model.diffusion_model.output_blocks.2.1.conv.weight": (1280, 1280, 3, 3),
        "model.diffusion_model.out.2.weight": (4, 320, 3, 3),
        "model.diffusion_model.time_embed.0.weight": (1280, 320),
        "first_stage_model.decoder.mid.attn_1.q.weight": (512, 512, 1, 1),
        "first_stage_model.encoder.down.0.downsample.conv.weight": (128, 128, 3, 3),
        "first_stage_model.decoder.up.0.block.0.conv1.weight": (128, 256, 3, 3),
        "first_stage_model.decoder.up.0.block.0.nin_shortcut.weight": (128, 256, 1, 1),
        "first_stage_model.decoder.up.3.upsample.conv.weight": (512, 512, 3, 3),
        "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight": (49408, 768),
        "cond_stage_model.transformer.text_model.final_layer_norm.weight": (768,),
    }.items():
        assert tuple(ldm[key].shape) == shape, key
    fake = write_header_only(tmp_path / "v1-5-pruned-emaonly.safetensors",
                             {k: list(v.shape) for k, v in ldm.items()})
    _, kind, arch = inspect(fake)
    assert (kind, arch) == ("checkpoint", "sd1")


def test_sd15_keys_convert_back_through_diffusers_exactly() -> None:
    from diffusers.loaders.single_file_utils import (
        convert_ldm_clip_checkpoint,
        convert_ldm_unet_checkpoint,
        convert_ldm_vae_checkpoint,
    )

    from engine.models.configs import read_json

    ldm = sd15_a1111_keys()
    folder = config_dir("sd1")
    back = {
        "unet": convert_ldm_unet_checkpoint(dict(ldm), read_json(folder / "unet" / "config.json")),
        "vae": convert_ldm_vae_checkpoint(dict(ldm), read_json(folder / "vae" / "config.json")),
        "text_encoder": {k.removeprefix("text_model."): v for k, v in convert_ldm_clip_checkpoint(dict(ldm)).items()},
    }
    for name, converted in back.items():
        expected = {k: tuple(v.shape) for k, v in meta_state("sd1", name).items()}
        assert {k: tuple(v.shape) for k, v in converted.items()} == expected, name


@pytest.mark.parametrize("arch", ["sd1-inpaint", "sd2", "sdxl", "sdxl-refiner"])
def test_header_detection_on_full_size_fakes(tmp_path: Path, arch: str) -> None:
    folder = config_dir(arch)
    ldm = ldm_state_dict(folder, {n: meta_state(arch, n) for n in model_names(folder)})
    fake = write_header_only(tmp_path / f"{arch}.safetensors", {k: list(v.shape) for k, v in ldm.items()})
    _, kind, detected = inspect(fake)
    assert (kind, detected) == ("checkpoint", arch)


def test_tokenizer_files_are_byte_exact() -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "build_tokenizer.py"
    spec = importlib.util.spec_from_file_location("build_tokenizer", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.check_stored() == []


@pytest.mark.parametrize(("arch", "sub", "pad"), [("sd1", "tokenizer", 49407), ("sd2", "tokenizer", 0),
                                                 ("sdxl", "tokenizer", 49407), ("sdxl", "tokenizer_2", 0)])
def test_tokenizers_give_the_real_ids(arch: str, sub: str, pad: int) -> None:
    tok = load_tokenizer(config_dir(arch), sub)
    assert tok("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    padded = tok("a cat", padding="max_length", max_length=77).input_ids
    assert len(padded) == 77 and padded[-1] == pad


@pytest.mark.parametrize("arch", ARCHS + ["demo"])
def test_shipped_folders_are_complete(arch: str) -> None:
    check_config_dir(config_dir(arch))
    assert "unet" in components(config_dir(arch))


@pytest.mark.parametrize("missing", ["tokenizer/tokenizer_config.json", "text_encoder/config.json",
                                     "unet/config.json", "scheduler/scheduler_config.json"])
def test_incomplete_folder_is_named_before_loading(tmp_path: Path, missing: str) -> None:
    copy = tmp_path / "sd1"
    shutil.copytree(CONFIGS_ROOT / "sd1", copy)
    (copy / missing).unlink()
    with pytest.raises(ConfigMissingError, match=missing.split("/")[0]) as err:
        check_config_dir(copy)
    assert err.value.code == "config-missing"
