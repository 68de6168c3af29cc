"""ControlNet: tiny A1111-layout files load offline, and units guide txt2img, img2img, inpainting, hires."""

from __future__ import annotations

import io
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.generation import controlnet as cn
from engine.generation.control_units import EXTRA_KEY, ControlUnit, infotext_fields
from engine.generation.generate import generate
from engine.jobs import GenParams
from engine.models.controlnet import ControlNetError, build, unet_family
from tests.engine.test_generate import Control
from tests.engine.tinycontrolnets import write_tiny_controlnet

_LOADED: dict[str, Any] = {}
_PREPARE = cn.prepare


def model(variant: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if variant not in _LOADED:
        torch.set_num_threads(1)
        from engine.models.loader import load_checkpoint
        from tests.engine.tinymodels import write_tiny_checkpoint

        folder = tmp_path_factory.mktemp(variant)
        _LOADED[variant] = load_checkpoint(write_tiny_checkpoint(folder / f"{variant}.safetensors", variant))
    return _LOADED[variant]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("controlnets")
    return {
        "sd1": write_tiny_controlnet(folder / "control_v11p_sd15_canny.safetensors", "sd1"),
        "sd1-other": write_tiny_controlnet(folder / "control_v11f1e_sd15_tile.safetensors", "sd1", seed=9),
        "sd1-pth": write_tiny_controlnet(folder / "control_v11p_sd15_lineart.pth", "sd1"),
        "sd1-diffusers": write_tiny_controlnet(folder / "diffusers_sd15_canny.safetensors", "sd1", layout="diffusers"),
        "sdxl": write_tiny_controlnet(folder / "controlnet-canny-sdxl.safetensors", "sdxl"),
    }


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def square(size: int = 64) -> Image.Image:
    image = Image.new("RGB", (size, size), (0, 0, 0))
    image.paste((255, 255, 255), (size // 4, size // 4, 3 * size // 4, 3 * size // 4))
    return image


def unit(path: Path, **kw: Any) -> ControlUnit:
    base = {"module": "canny", "model": path.stem, "model_path": str(path), "image": png(square())}
    return ControlUnit(**{**base, **kw})


def params(*units: ControlUnit, **kw: Any) -> GenParams:
    base = GenParams(prompt="a cat", steps=4, width=64, height=64, seed=5, cfg_scale=7.0)
    return replace(base, **kw, extra={EXTRA_KEY: tuple(units)})


def pixels(result: Any) -> np.ndarray:
    return np.asarray(result.images[0], dtype=np.int16)


class CountingControl(Control):
    """Records, at every step, how many UNet calls each ready unit guided so far."""

    def __init__(self, ready: list[cn.ReadyUnit]) -> None:
        super().__init__()
        self.ready = ready
        self.calls: list[list[int]] = []

    def on_step(self, image_index: int, step: int, total_steps: int, latents: Any) -> None:
        super().on_step(image_index, step, total_steps, latents)
        self.calls.append([r.calls for r in self.ready])


def run_counting(m: Any, p: GenParams, monkeypatch: pytest.MonkeyPatch) -> CountingControl:
    """generate() with the ready units visible to the step callback."""
    seen: list[cn.ReadyUnit] = []

    def prepare(pipes: Any, prm: GenParams) -> list[cn.ReadyUnit]:
        seen.extend(_PREPARE(pipes, prm))
        return seen

    control = CountingControl(seen)
    with monkeypatch.context() as patched:
        patched.setattr(cn, "prepare", prepare)
        generate(m, p, control)
    return control


def test_a1111_layout_files_load_offline_and_the_family_is_checked(
        files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    sd1, sdxl = model("sd1", tmp_path_factory), model("sdxl", tmp_path_factory)

    def refuse(*_a: Any, **_k: Any) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    nets = {k: build(files[k], sd1.pipe.unet, unet_family(sd1.pipe.unet)) for k in ("sd1", "sd1-pth", "sd1-diffusers")}
    a, b = nets["sd1"].state_dict(), nets["sd1-pth"].state_dict()
    assert a.keys() == nets["sd1-diffusers"].state_dict().keys()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the .pth (weights-only) holds the same tensors
    assert type(build(files["sdxl"], sdxl.pipe.unet, unet_family(sdxl.pipe.unet))).__name__ == "ControlNetModel"
    with pytest.raises(ControlNetError, match="is an SDXL ControlNet; the loaded checkpoint is SD1.5"):
        build(files["sdxl"], sd1.pipe.unet, unet_family(sd1.pipe.unet))
    with pytest.raises(ControlNetError, match="is an SD1.5 ControlNet; the loaded checkpoint is SDXL"):
        build(files["sd1"], sdxl.pipe.unet, unet_family(sdxl.pipe.unet))


def test_a_pickle_that_runs_code_is_refused(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    class Payload:
        def __reduce__(self) -> tuple[Any, ...]:
            return (print, ("ran",))

    bad = tmp_path / "control_evil.pth"
    torch.save({"x": Payload()}, str(bad))
    sd1 = model("sd1", tmp_path_factory)
    with pytest.raises(ControlNetError, match="cannot be read as a ControlNet"):
        build(bad, sd1.pipe.unet, "sd1")


def test_weight_zero_is_exactly_the_picture_without_controlnet(
        files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    plain = generate(m, params(), Control())
    zero = generate(m, params(unit(files["sd1"], weight=0.0)), Control())
    guided = generate(m, params(unit(files["sd1"])), Control())
    assert np.array_equal(pixels(plain), pixels(zero))
    assert np.abs(pixels(plain) - pixels(guided)).max() > 0
    assert zero.detected_maps == []  # a unit that takes no part detects nothing
    assert guided.detected_maps[0].size == (512, 512)  # canny at processor_res 512


def test_guidance_end_stops_the_unit_at_that_step(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    m = model("sd1", tmp_path_factory)
    control = run_counting(m, params(unit(files["sd1"], guidance_end=0.5)), monkeypatch)
    assert [c[0] for c in control.calls] == [1, 2, 3, 3]  # steps at 0, 0.25, 0.5 guided; 0.75 not
    control = run_counting(m, params(unit(files["sd1"], guidance_start=0.5)), monkeypatch)
    assert [c[0] for c in control.calls] == [0, 0, 1, 2]


def test_two_units_at_once(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    m = model("sd1", tmp_path_factory)
    first = unit(files["sd1"])
    second = unit(files["sd1-other"], module="tile_resample", index=1, guidance_end=0.25)
    control = run_counting(m, params(first, second), monkeypatch)
    assert control.calls[-1] == [4, 2]
    both = generate(m, params(first, second), Control())
    one = generate(m, params(first), Control())
    assert np.abs(pixels(both) - pixels(one)).max() > 0
    assert len(both.detected_maps) == 2


def test_control_modes_give_different_pictures_and_soft_weights(files: dict[str, Path],
                                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    pictures = [pixels(generate(m, params(unit(files["sd1"], control_mode=mode)), Control()))
                for mode in ("Balanced", "My prompt is more important", "ControlNet is more important")]
    assert np.abs(pictures[0] - pictures[1]).max() > 0 and np.abs(pictures[1] - pictures[2]).max() > 0
    soft = cn.Injector._scales(unit(files["sd1"], weight=2.0, control_mode="My prompt is more important"), 13)
    assert soft[-1] == 2.0 and soft[0] == pytest.approx(2.0 * 0.825 ** 12)


def test_img2img_inpainting_and_hires_with_a_unit(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    m = model("sd1", tmp_path_factory)
    init = Image.new("RGB", (64, 64), (200, 40, 40))
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    img2img = params(unit(files["sd1"], image=None), mode="img2img", init_images=(init,), denoising_strength=0.5)
    assert np.abs(pixels(generate(m, img2img, Control())) - pixels(generate(m, params(mode="img2img", init_images=(init,),
                  denoising_strength=0.5), Control()))).max() > 0
    inpaint = replace(img2img, mask=mask, mask_blur=0,
                      extra={EXTRA_KEY: (unit(files["sd1"], module="inpaint_only", image=None),)})
    out = generate(m, inpaint, Control())
    assert np.array_equal(np.asarray(out.images[0])[:, 32:], np.asarray(init)[:, 32:])
    hires = params(unit(files["sd1"], hr_option="Low res only"), enable_hr=True, hr_scale=1.5, denoising_strength=0.5)
    control = run_counting(m, hires, monkeypatch)
    assert [c[0] for c in control.calls][-1] == 4  # the hires pass ran unguided
    both = run_counting(m, replace(hires, extra={EXTRA_KEY: (unit(files["sd1"]),)}), monkeypatch)
    assert both.calls[-1][0] > 4


def test_sdxl_unit(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sdxl", tmp_path_factory)
    plain = generate(m, params(steps=2), Control())
    guided = generate(m, params(unit(files["sdxl"]), steps=2), Control())
    assert np.abs(pixels(plain) - pixels(guided)).max() > 0


def test_infotext_has_the_extensions_unit_line(files: dict[str, Path]) -> None:
    u = unit(files["sd1"], model="control_v11p_sd15_canny [d14c016b]", threshold_a=100, threshold_b=200)
    fields = infotext_fields(params(u))
    assert fields == {"ControlNet 0": "Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 1, "
                                      "Resize Mode: Crop and Resize, Low Vram: False, Processor Res: 512, "
                                      "Threshold A: 100, Threshold B: 200, Guidance Start: 0, Guidance End: 1, "
                                      "Pixel Perfect: False, Control Mode: Balanced, Save Detected Map: True"}


def test_infotext_of_a_generated_picture(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    text = generate(m, params(unit(files["sd1"], module="none", weight=0.5)), Control()).infotexts[0]
    assert 'ControlNet 0: "Module: none, Model: control_v11p_sd15_canny, Weight: 0.5, Resize Mode: Crop and Resize' in text


def test_resize_modes_and_pixel_perfect() -> None:
    wide = np.zeros((50, 100, 3), dtype=np.float32)
    wide[:, :50] = 1.0
    assert cn.fit(wide, 64, 64, "Just Resize").shape == (64, 64, 3)
    cropped = cn.fit(wide, 64, 64, "Crop and Resize")
    assert cropped.shape == (64, 64, 3) and cropped[:, 0].min() == 1.0 and cropped[:, -1].max() == 0.0
    filled = cn.fit(wide, 64, 64, "Resize and Fill")
    assert filled.shape == (64, 64, 3) and filled[20:44, 2].min() > 0.99
    assert cn.pixel_perfect_res((1024, 512), (512, 512), "Crop and Resize") == 512
    assert cn.pixel_perfect_res((1024, 512), (512, 512), "Resize and Fill") == 256


def test_a_list_of_pictures_gives_each_picture_of_the_batch_its_own_map(files: dict[str, Path]) -> None:
    ready = cn.ReadyUnit(unit(files["sd1"]), None, np.zeros((8, 8, 3), np.float32), square(8),
                         later_maps=[np.ones((8, 8, 3), np.float32)])
    hints = ready.hints(8, 8, torch.device("cpu"), torch.float32, 3)
    assert [float(h.mean()) for h in hints] == [0.0, 1.0, 1.0]  # picture 3 takes the last map
    injector = cn.Injector([ready], params(), cn.StepCount(Control()), images=3)
    rows = injector._hint(ready, 8, 8, torch.zeros(6, 4, 1, 1), torch.float32)  # CFG: unconditional, conditional
    assert [float(h.mean()) for h in rows] == [0.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    single = cn.ReadyUnit(unit(files["sd1"]), None, np.ones((8, 8, 3), np.float32), square(8))
    assert single.hints(8, 8, torch.device("cpu"), torch.float32, 2).shape == (2, 3, 8, 8)


class LatentControl(Control):
    """Keeps the latents of the last step (the pictures differ there before the VAE rounds them)."""

    latents: Any = None

    def on_step(self, image_index: int, step: int, total_steps: int, latents: Any) -> None:
        super().on_step(image_index, step, total_steps, latents)
        self.latents = latents.detach().clone()


def test_batch_pictures_are_guided_by_their_own_unit_picture(files: dict[str, Path],
                                                              tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    stripes = Image.new("RGB", (64, 64), (0, 0, 0))
    for x in range(0, 64, 8):
        stripes.paste((255, 255, 255), (x, 0, x + 4, 64))
    a, b = png(square()), png(stripes)

    def run(first: bytes, *later: bytes) -> tuple[Any, Any]:
        u = unit(files["sd1"], image=first, later_pictures=tuple((p, None) for p in later), processor_res=64)
        control = LatentControl()
        return generate(m, params(u, batch_size=2), control), control.latents

    (mixed, mixed_latents), (only_a, a_latents), (_, b_latents) = run(a, b), run(a), run(b, b)
    assert torch.equal(mixed_latents[0], a_latents[0])  # picture 1: the first map, as without a list
    assert torch.equal(mixed_latents[1], b_latents[1])  # picture 2: the second picture's map
    assert not torch.equal(mixed_latents[1], a_latents[1])  # (with one picture, the last repeats)
    assert len(mixed.detected_maps) == 2 and len(only_a.detected_maps) == 1
    assert mixed.detected_labels == ["canny", "canny"]
    assert not np.array_equal(np.asarray(mixed.detected_maps[0]), np.asarray(mixed.detected_maps[1]))


def test_save_detected_map_false_keeps_the_map_out(files: dict[str, Path],
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    m = model("sd1", tmp_path_factory)
    out = generate(m, params(unit(files["sd1"], save_detected_map=False, processor_res=64)), Control())
    assert out.detected_maps == [] and out.detected_labels == [] and len(out.images) == 1
