"""A1111's infotext: written in A1111's order and quoting, read back, and read from other tools."""

from __future__ import annotations

from pathlib import Path

from engine.generation.infotext import build, parse, version
from engine.jobs import GenParams, LoraRef
from engine.models.loaded import LoadedModel

MODEL = LoadedModel(pipe=None, arch="sd1", name="photorealisticAllPurpose_v30.safetensors",
                    path=Path("x"), sha256="3e71f329d8" + "0" * 54)


def test_a1111s_example_line_exactly() -> None:
    params = GenParams(prompt="a cat", sampler_name="DPM++ 2M", scheduler="Karras", steps=20, cfg_scale=7.0)
    text = build(params, MODEL, 298495402)
    assert text == (
        "a cat\n"
        "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 298495402, "
        "Size: 512x512, Model hash: 3e71f329d8, Model: photorealisticAllPurpose_v30, "
        f"Version: {version()}"
    )


def test_everything_in_order_with_quoting() -> None:
    model = LoadedModel(pipe=None, arch="sd1", name="m.safetensors", path=Path("m"), sha256="a" * 64,
                        vae_name="vae-ft-mse.safetensors", vae_sha256="b" * 64)
    loras = (LoraRef("add_detail", 0.8, short_hash="47aaaf0d2945"), LoraRef("style", 1.0, short_hash="123456789abc"))
    params = GenParams(mode="txt2img", prompt="a (cat:1.2)", negative_prompt="ugly, blurry", loras=loras,
                       cfg_scale=6.5, clip_skip=2, enable_hr=True, hr_scale=1.5, hr_second_pass_steps=10,
                       denoising_strength=0.45, width=512, height=768)
    lines = build(params, model, 5).split("\n")
    assert lines[0] == "a (cat:1.2) <lora:add_detail:0.8> <lora:style:1>"
    assert lines[1] == "Negative prompt: ugly, blurry"
    assert lines[2] == (
        "Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 6.5, Seed: 5, Size: 512x768, "
        "Model hash: aaaaaaaaaa, Model: m, VAE hash: bbbbbbbbbb, VAE: vae-ft-mse.safetensors, "
        "Denoising strength: 0.45, Clip skip: 2, Hires upscale: 1.5, Hires steps: 10, "
        'Hires upscaler: Latent, Lora hashes: "add_detail: 47aaaf0d2945, style: 123456789abc", '
        f"Version: {version()}"
    )


def test_round_trip() -> None:
    params = GenParams(prompt='line one\nline "two", (x:1.1)', negative_prompt="bad\nworse", seed=9,
                       sampler_name="DPM++ 2M SDE", scheduler="Exponential", cfg_scale=4.5,
                       loras=(LoraRef("a:b", 0.5, short_hash="0123456789ab"),), mode="img2img",
                       denoising_strength=0.3)
    text = build(params, MODEL, 123)
    parsed = parse(text)
    assert parsed["Prompt"] == 'line one\nline "two", (x:1.1) <lora:a:b:0.5>'
    assert parsed["Negative prompt"] == "bad\nworse"
    assert parsed["Sampler"] == "DPM++ 2M SDE" and parsed["Schedule type"] == "Exponential"
    assert parsed["Seed"] == "123" and parsed["CFG scale"] == "4.5"
    assert parsed["Size-1"] == "512" and parsed["Size-2"] == "512"
    assert parsed["Denoising strength"] == "0.3" and parsed["Lora hashes"] == "a:b: 0123456789ab"
    assert parsed["Model"] == "photorealisticAllPurpose_v30" and parsed["Clip skip"] == "1"
    rebuilt_pairs = text.split("\n")[-1]
    assert all(f"{k}: " in rebuilt_pairs for k in ("Steps", "Model hash", "Version"))


def test_reads_older_a1111_and_forge_infotexts() -> None:
    text = (
        "masterpiece, 1girl,\nsmiling <lora:detail:0.6>\n"
        "Negative prompt: lowres, bad hands\n"
        "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7.5, Seed: 1234, Size: 512x768, "
        "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.4, Clip skip: 2, "
        'Hires upscale: 2, Hires upscaler: R-ESRGAN 4x+, Lora hashes: "detail: 47aaaf0d2945", '
        "Module 1: some-module, Version: f2.0.1v1.10.1-previous-313"
    )
    parsed = parse(text)
    assert parsed["Prompt"] == "masterpiece, 1girl,\nsmiling <lora:detail:0.6>"
    assert parsed["Negative prompt"] == "lowres, bad hands"
    assert (parsed["Sampler"], parsed["Schedule type"]) == ("DPM++ 2M", "Karras")
    assert parsed["Clip skip"] == "2" and parsed["Hires upscaler"] == "R-ESRGAN 4x+"
    assert parsed["Lora hashes"] == "detail: 47aaaf0d2945" and parsed["Module 1"] == "some-module"
    assert parsed["Version"] == "f2.0.1v1.10.1-previous-313"
    assert parsed["RNG"] == "GPU"  # A1111 writes no RNG for its default source


def test_noise_source_and_eta_noise_seed_delta_as_a1111_writes_them() -> None:
    line = build(GenParams(randn_source="NV", eta_noise_seed_delta=31337), MODEL, 1).split("\n")[-1]
    assert "ENSD: 31337, RNG: NV, Version" in line  # Euler a: an ancestral sampler, so ENSD counts
    line = build(GenParams(sampler_name="DPM++ 2M", randn_source="CPU", eta_noise_seed_delta=31337), MODEL, 1)
    assert "ENSD" not in line and "RNG: CPU" in line  # no step noise: A1111 leaves ENSD out
    assert "RNG" not in build(GenParams(), MODEL, 1)
    assert parse(build(GenParams(randn_source="CPU"), MODEL, 1))["RNG"] == "CPU"


def test_prompt_only_text_has_no_parameters() -> None:
    parsed = parse("just a prompt, nothing else")
    assert parsed["Prompt"] == "just a prompt, nothing else" and "Steps" not in parsed


def test_the_prompts_as_the_user_wrote_them_win() -> None:
    params = GenParams(prompt="a cat ", negative_prompt="ugly ", loras=(LoraRef("x", 0.5),),
                       extra={"original_prompt": "a cat <lora:x:0.5>", "original_negative_prompt": "ugly <lora:y:1>"})
    lines = build(params, MODEL, 1).split("\n")
    assert lines[:2] == ["a cat <lora:x:0.5>", "Negative prompt: ugly <lora:y:1>"]
