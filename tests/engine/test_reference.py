"""Reference units: no ControlNet model; the self-attention (reference_only) or the block statistics
(reference_adain) or both take the reference picture's."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.generation import controlnet as cn
from engine.generation import reference
from engine.generation.control_units import EXTRA_KEY, ControlUnit
from engine.generation.generate import generate
from engine.jobs import GenParams
from tests.engine.server_helpers import SMALL, Engine, decode_png, engine_fixture, png_b64
from tests.engine.test_controlnet import CountingControl, model
from tests.engine.test_generate import Control

_PREPARE = cn.prepare
engine = engine_fixture("reference")


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def stripes(size: int = 64, colour: tuple[int, int, int] = (230, 20, 20)) -> Image.Image:
    image = Image.new("RGB", (size, size), (0, 0, 0))
    for x in range(0, size, 8):
        image.paste(colour, (x, 0, x + 4, size))
    return image


def ref_unit(picture: Image.Image | None = None, **kw: Any) -> ControlUnit:
    return ControlUnit(**{"module": "reference_only", "image": png(picture or stripes()), **kw})


def params(*units: ControlUnit, **kw: Any) -> GenParams:
    base = GenParams(prompt="a cat", steps=4, width=64, height=64, seed=5, cfg_scale=7.0)
    return replace(base, **kw, extra={EXTRA_KEY: tuple(units)})


def pixels(result: Any) -> np.ndarray:
    return np.asarray(result.images[0], dtype=np.int16)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[cn.ReadyUnit]]:
    """The ready units of the next generate() calls, for CountingControl."""
    seen: list[cn.ReadyUnit] = []

    def prepare(pipes: Any, prm: GenParams) -> list[cn.ReadyUnit]:
        seen.clear()
        seen.extend(_PREPARE(pipes, prm))
        return seen

    monkeypatch.setattr(cn, "prepare", prepare)
    yield seen


def test_weight_zero_is_exactly_the_picture_without_the_unit(tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    processors = dict(m.pipe.unet.attn_processors)
    plain = generate(m, params(), Control())
    zero = generate(m, params(ref_unit(weight=0.0)), Control())
    guided = generate(m, params(ref_unit()), Control())
    again = generate(m, params(ref_unit()), Control())
    assert np.array_equal(pixels(plain), pixels(zero))
    assert np.abs(pixels(plain) - pixels(guided)).max() > 0
    assert np.array_equal(pixels(guided), pixels(again))  # the seed decides the reference's noise too
    assert guided.detected_maps[0].size == (64, 64)  # the map is the reference picture itself
    assert np.array_equal(np.asarray(guided.detected_maps[0]), np.asarray(stripes()))
    assert dict(m.pipe.unet.attn_processors) == processors  # the UNet's own processors are back
    assert "forward" not in vars(m.pipe.unet)


def test_the_reference_picture_reaches_the_picture(tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    red = generate(m, params(ref_unit(stripes(colour=(230, 20, 20)))), Control())
    blue = generate(m, params(ref_unit(stripes(colour=(20, 20, 230)))), Control())
    assert np.abs(pixels(red) - pixels(blue)).max() > 0
    fidelity = generate(m, params(ref_unit(threshold_a=1.0)), Control())
    prompt_first = generate(m, params(ref_unit(control_mode="My prompt is more important")), Control())
    assert np.abs(pixels(fidelity) - pixels(prompt_first)).max() > 0


def test_guidance_end_stops_the_unit(tmp_path_factory: pytest.TempPathFactory, counted: list[cn.ReadyUnit]) -> None:
    m = model("sd1", tmp_path_factory)
    control = CountingControl(counted)
    ended = generate(m, params(ref_unit(guidance_end=0.5)), control)
    assert [c[0] for c in control.calls] == [1, 2, 3, 3]  # steps at 0, 0.25, 0.5 take the reference; 0.75 not
    control = CountingControl(counted)
    generate(m, params(ref_unit(guidance_start=0.5)), control)
    assert [c[0] for c in control.calls] == [0, 0, 1, 2]
    full = generate(m, params(ref_unit()), Control())
    assert np.abs(pixels(full) - pixels(ended)).max() > 0


def layer_and_inputs() -> tuple[Any, Any, Any]:
    from diffusers.models.attention_processor import Attention

    torch.manual_seed(0)
    attn = Attention(query_dim=16, heads=1, dim_head=16)  # one head: the mixing is exact after the projection
    own, ref = torch.randn(2, 12, 16), torch.randn(2, 20, 16) + 2.0
    return attn, own, ref


def test_self_attention_moves_toward_the_reference() -> None:
    attn, own, ref = layer_and_inputs()
    inner = attn.processor
    state = reference.PassState()
    layer = reference.ReferenceAttention(inner, state, rank=0.0)
    state.mode, state.weight, state.fidelity = reference.WRITE, 1.0, 0.0
    layer(attn, ref)
    state.mode = reference.READ
    with torch.no_grad():
        read = layer(attn, own)
        plain = inner(attn, own)
        only_ref = inner(attn, own, ref)
        both = inner(attn, own, torch.cat([own, ref], dim=1))
    assert torch.allclose(read, both, atol=1e-6)  # its own tokens and the reference's, as one sequence
    # every token's output lies between its plain self-attention and attention to the reference alone
    assert bool(((read - only_ref).norm(dim=-1) < (plain - only_ref).norm(dim=-1)).all())
    assert layer.bank == []  # read once, then emptied


def test_style_fidelity_mixes_the_unconditional_rows() -> None:
    attn, own, ref = layer_and_inputs()
    inner = attn.processor
    state = reference.PassState(uncond=1)
    layer = reference.ReferenceAttention(inner, state, rank=0.0)
    state.mode, state.weight, state.fidelity = reference.WRITE, 1.0, 0.25
    layer(attn, ref)
    state.mode = reference.READ
    with torch.no_grad():
        read = layer(attn, own)
        plain = inner(attn, own)
        both = inner(attn, own, torch.cat([own, ref], dim=1))
    assert torch.allclose(read[1], both[1], atol=1e-6)  # the conditional row: the reference fully
    assert torch.allclose(read[0], 0.25 * plain[0] + 0.75 * both[0], atol=1e-6)


def test_the_weight_picks_the_widest_layers(tmp_path_factory: pytest.TempPathFactory) -> None:
    layers = reference.self_attention_layers(model("sd1", tmp_path_factory).pipe.unet)
    widths = [int(a.to_q.in_features) for a in layers]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) > 1
    state = reference.PassState(mode=reference.WRITE, weight=0.5)
    wrappers = [reference.ReferenceAttention(a.processor, state, i / len(layers)) for i, a in enumerate(layers)]
    for wrapper, layer in zip(wrappers, layers, strict=True):
        wrapper(layer, torch.randn(1, 4, int(layer.to_q.in_features)))
    kept = [bool(w.bank) for w in wrappers]
    assert kept == [i / len(layers) < 0.5 for i in range(len(layers))]


def test_control_modes_and_the_hires_pass_set_the_fidelity() -> None:
    unit = ControlUnit(module="reference_only", threshold_a=0.3)
    assert reference.style_fidelity(unit, hires=False) == 0.3
    assert reference.style_fidelity(replace(unit, threshold_a=-1), hires=False) == 0.5  # the default
    assert reference.style_fidelity(unit, hires=True) == 0.0
    assert reference.style_fidelity(replace(unit, control_mode="My prompt is more important"), False) == 0.0
    assert reference.style_fidelity(replace(unit, control_mode="ControlNet is more important"), True) == 1.0


def test_img2img_inpainting_and_hires_with_a_reference(tmp_path_factory: pytest.TempPathFactory,
                                                       counted: list[cn.ReadyUnit]) -> None:
    m = model("sd1", tmp_path_factory)
    init = Image.new("RGB", (64, 64), (40, 160, 40))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    img2img = params(ref_unit(), mode="img2img", init_images=[init], denoising_strength=0.75)
    assert generate(m, img2img, Control()).images
    inpaint = replace(img2img, mask=mask)
    plain_inpaint = generate(m, replace(inpaint, extra={}), Control())
    guided = generate(m, inpaint, Control())
    assert np.abs(pixels(plain_inpaint) - pixels(guided)).max() > 0
    control = CountingControl(counted)
    hires = generate(m, params(ref_unit(), enable_hr=True, hr_scale=1.5, denoising_strength=0.5), control)
    assert hires.images[0].size == (96, 96)
    assert control.calls[-1][0] == 4 + 4  # every call of both passes took the reference


def test_a_list_of_references_guides_picture_by_picture(tmp_path_factory: pytest.TempPathFactory,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    m = model("sd1", tmp_path_factory)
    noised: list[Any] = []
    original = reference.ReferenceHook._noised

    def recorded(self: reference.ReferenceHook, index: int, sample: Any, timestep: Any) -> Any:
        noised.append(self._latent(index, int(sample.shape[-2]), int(sample.shape[-1])))
        return original(self, index, sample, timestep)

    monkeypatch.setattr(reference.ReferenceHook, "_noised", recorded)
    blue = (png(stripes(colour=(20, 20, 230))), None)
    generate(m, params(ref_unit(), batch_size=2), Control())
    single = noised[-1]
    two = generate(m, params(ref_unit(later_pictures=(blue,)), batch_size=2), Control())
    both = noised[-1]
    assert single.shape[0] == 1 and both.shape[0] == 2
    assert torch.allclose(both[0], single[0], atol=1e-3)  # picture 1 keeps the first reference
    assert (both[1] - single[0]).abs().max() > 1e-2  # picture 2 takes the second
    assert len(two.detected_maps) == 2 and two.detected_maps[1].getpixel((0, 0)) == (20, 20, 230)


def test_beside_a_controlnet_unit(tmp_path_factory: pytest.TempPathFactory, counted: list[cn.ReadyUnit]) -> None:
    from tests.engine.tinycontrolnets import write_tiny_controlnet

    m = model("sd1", tmp_path_factory)
    path = write_tiny_controlnet(tmp_path_factory.mktemp("ref-cn") / "control_v11p_sd15_canny.safetensors", "sd1")
    canny = ControlUnit(module="canny", model=path.stem, model_path=str(path), image=png(stripes()), index=1)
    control = CountingControl(counted)
    both = generate(m, params(ref_unit(), canny), control)
    assert control.calls[-1] == [4, 4]  # each guided all four steps
    alone = generate(m, params(canny), Control())
    assert np.abs(pixels(both) - pixels(alone)).max() > 0


def test_adain_units(tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    plain = generate(m, params(), Control())
    attention = generate(m, params(ref_unit()), Control())
    adain = generate(m, params(ref_unit(module="reference_adain")), Control())
    both = generate(m, params(ref_unit(module="reference_adain+attn")), Control())
    zero = generate(m, params(ref_unit(module="reference_adain", weight=0.0)), Control())
    assert np.array_equal(pixels(plain), pixels(zero))
    pictures = [pixels(r) for r in (plain, attention, adain, both)]
    assert all(np.abs(a - b).max() > 0 for i, a in enumerate(pictures) for b in pictures[i + 1:])
    unet = m.pipe.unet
    assert not any(module._forward_hooks for module in unet.modules())  # the taps are gone afterwards


def full_layout_unet(sdxl: bool) -> Any:
    """A UNet with SD1's (or SDXL's) block layout and tiny widths."""
    from diffusers import UNet2DConditionModel

    down: tuple[str, ...]
    up: tuple[str, ...]
    if sdxl:
        down = ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D")
        up = ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D")
    else:
        down = ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",)
        up = ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3
    return UNet2DConditionModel(block_out_channels=(8,) * len(down), down_block_types=down, up_block_types=up,
                                norm_num_groups=4, cross_attention_dim=8, attention_head_dim=2, layers_per_block=2)


def test_adain_taps_follow_the_original_block_numbering() -> None:
    from engine.generation import reference_adain as ra

    sd1 = full_layout_unet(sdxl=False)
    inputs, outputs = ra.input_blocks(sd1), ra.output_blocks(sd1)
    assert len(inputs) == 12 and len(outputs) == 12
    assert inputs[4] is sd1.down_blocks[1].attentions[0] and inputs[6] is sd1.down_blocks[1].downsamplers[0]
    assert inputs[10] is sd1.down_blocks[3].resnets[0]
    assert outputs[2] is sd1.up_blocks[0].upsamplers[0] and outputs[7] is sd1.up_blocks[2].attentions[1]
    taps = ra.taps_of(sd1, sdxl=False)
    assert taps[0] == (sd1.mid_block, 0.0) and len(taps) == 1 + 6 + 8
    assert [rank for _, rank in taps[1:7]] == pytest.approx([2.0, 5 / 3, 4 / 3, 1.0, 2 / 3, 1 / 3])
    sdxl = full_layout_unet(sdxl=True)
    taps = ra.taps_of(sdxl, sdxl=True)
    assert len(taps) == 1 + 4 + 6 and taps[1][0] is sdxl.down_blocks[1].attentions[0]
    assert taps[-1][0] is sdxl.up_blocks[1].upsamplers[0]


def test_adain_takes_the_references_statistics() -> None:
    from engine.generation.reference_adain import AdainTap

    torch.manual_seed(0)
    state = reference.PassState(uncond=1)
    tap = AdainTap(state, rank=0.0)
    ref = torch.randn(2, 3, 8, 8) * 3.0 + 5.0
    x = torch.randn(2, 3, 8, 8)
    state.mode, state.adain_weight, state.fidelity = reference.WRITE, 1.0, 0.25
    assert tap.apply(ref) is ref  # writing changes nothing
    state.mode = reference.READ
    y = tap.apply(x)
    var, mean = torch.var_mean(ref, dim=(2, 3), correction=0)
    assert torch.allclose(y[1].mean(dim=(1, 2)), mean[1], atol=1e-4)  # the conditional row: the reference's
    assert torch.allclose(y[1].var(dim=(1, 2), correction=0), var[1], atol=1e-3)
    full = (x[0] - x[0].mean(dim=(1, 2), keepdim=True)) / x[0].var(dim=(1, 2), keepdim=True, correction=0).sqrt()
    full = full * var[0].sqrt()[:, None, None] + mean[0][:, None, None]
    assert torch.allclose(y[0], 0.25 * x[0] + 0.75 * full, atol=1e-4)  # the unconditional row, mixed
    assert tap.means == []
    state.mode = reference.WRITE
    state.adain_weight = 0.0  # a reference_only unit: the taps keep nothing
    tap.apply(ref)
    assert tap.means == []


def test_sdxl_reference_unit(tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sdxl", tmp_path_factory)
    plain = generate(m, params(), Control())
    zero = generate(m, params(ref_unit(weight=0.0)), Control())
    guided = generate(m, params(ref_unit()), Control())
    both = generate(m, params(ref_unit(module="reference_adain+attn")), Control())
    assert np.array_equal(pixels(plain), pixels(zero))
    assert np.abs(pixels(plain) - pixels(guided)).max() > 0
    assert np.abs(pixels(both) - pixels(guided)).max() > 0


def reference_api_unit(**kw: Any) -> dict[str, Any]:
    return {"module": "reference_only", "model": "None", "image": png_b64("blue"), "weight": 1.0, **kw}


def test_the_unit_through_the_api_with_model_none(engine: Engine) -> None:
    c = engine.client
    modules = c.get("/controlnet/module_list").json()
    assert {"reference_only", "reference_adain", "reference_adain+attn"} <= set(modules["module_list"])
    detail = modules["module_detail"]["reference_only"]
    assert detail["model_free"] is True
    assert detail["sliders"] == [{"name": "Style Fidelity (only for Balanced mode)", "value": 0.5, "min": 0.0,
                                  "max": 1.0, "step": 0.01}]
    types = c.get("/controlnet/control_types").json()["control_types"]
    assert types["Reference"]["module_list"] == ["none", "reference_only", "reference_adain", "reference_adain+attn"]
    assert types["Reference"]["model_list"] == ["None"] and types["Reference"]["default_option"] == "reference_only"
    plain = c.post("/sdapi/v1/txt2img", json={**SMALL, "prompt": "a cat"}).json()
    body = {**SMALL, "prompt": "a cat", "alwayson_scripts": {"controlnet": {"args": [reference_api_unit()]}}}
    r = c.post("/sdapi/v1/txt2img", json=body)
    assert r.status_code == 200, r.text
    images = [np.asarray(decode_png(d)) for d in r.json()["images"]]
    assert len(images) == 2 and not np.array_equal(images[0], np.asarray(decode_png(plain["images"][0])))
    assert 'ControlNet 0: "Module: reference_only, Model: None, Weight: 1' in json.loads(r.json()["info"])["infotexts"][0]


@pytest.mark.parametrize("model_name", ["control_v11p_sd15_canny", "tiny"])
def test_a_named_model_on_a_reference_unit_is_refused(engine: Engine, model_name: str) -> None:
    body = {**SMALL, "prompt": "a cat",
            "alwayson_scripts": {"controlnet": {"args": [reference_api_unit(model=model_name)]}}}
    r = engine.client.post("/sdapi/v1/txt2img", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "alwayson_scripts.controlnet.args[0].model"
    assert "reference_only preprocessor uses no ControlNet model" in r.json()["detail"]


def test_detect_answers_the_reference_picture(engine: Engine) -> None:
    r = engine.client.post("/controlnet/detect", json={"controlnet_module": "reference_only",
                                                       "controlnet_input_images": [png_b64("blue", (48, 32))]})
    assert r.status_code == 200, r.text
    detected = decode_png(r.json()["images"][0])
    assert detected.size == (48, 32) and detected.getpixel((5, 5)) == (0, 0, 255)
