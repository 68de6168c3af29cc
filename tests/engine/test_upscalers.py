"""Upscaler model files: where Maple finds them, what it calls them, and loading them safely.

Real files in the layouts users download (Real-ESRGAN's ``params_ema`` .pth, a Compact
.safetensors) with tiny random weights, in A1111's folders of the home and of a shared 秋叶 folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.generation.upscale import Settings, run_model, upscale
from engine.models.errors import PickleRefusedError, UpscalerError
from engine.models.registry import ModelRegistry
from engine.models.upscaler_load import load_upscaler, read_state_dict, release_upscalers
from engine.models.upscalers import all_upscalers, find_upscaler, scale_from_name
from installer.errors import ModelNotFoundError
from installer.home import Home
from tests.engine.tinyupscalers import (
    compact_state,
    esrgan_state,
    write_pickle_trap,
    write_pth,
    write_safetensors,
)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Home, Path]:
    """A home with files in models/ESRGAN, models/RealESRGAN and models/DAT, and a shared A1111 root."""
    home = Home(tmp_path / "home").ensure()
    write_pth(home.root / "models/RealESRGAN/RealESRGAN_x4plus.pth", esrgan_state())
    write_safetensors(home.root / "models/ESRGAN/4x-Tiny.safetensors", esrgan_state(seed=1))
    write_pth(home.root / "models/ESRGAN/4x-Tiny.pth", esrgan_state(seed=2))  # same name: .safetensors wins
    write_safetensors(home.root / "models/DAT/tiny_compact_x2.safetensors", compact_state())
    shared = tmp_path / "sd-webui-aki-v4"
    write_pth(shared / "models/RealESRGAN/RealESRGAN_x4plus_anime_6B.pth", esrgan_state(seed=3), wrap=None)
    write_safetensors(shared / "models/SwinIR/SwinIR_4x.safetensors", compact_state(scale=4))
    (shared / "models/Stable-diffusion").mkdir(parents=True)
    return home, shared


def test_upscalers_are_found_in_a1111_folders_and_named_as_a1111_names_them(folders) -> None:
    home, shared = folders
    registry = ModelRegistry(home, [shared])
    names = [u.name for u in all_upscalers(registry)]
    assert names[:3] == ["None", "Lanczos", "Nearest"]
    assert sorted(names[3:]) == sorted(["R-ESRGAN 4x+", "R-ESRGAN 4x+ Anime6B", "SwinIR 4x", "4x-Tiny", "tiny_compact_x2"])
    tiny = find_upscaler(registry, "4x-Tiny")
    assert tiny.path is not None and tiny.path.suffix == ".safetensors" and tiny.scale == 4
    plus = find_upscaler(registry, "RealESRGAN_x4plus", "upscaler_1")  # the file's stem works too
    assert (plus.name, plus.family, plus.scale) == ("R-ESRGAN 4x+", "RealESRGAN", 4)
    assert find_upscaler(registry, "r-esrgan 4x+ anime6b").path.parent.parent.parent == shared
    assert find_upscaler(registry, "tiny_compact_x2").scale == 2


def test_an_unknown_upscaler_is_a_404_naming_the_field_and_what_exists(folders) -> None:
    home, shared = folders
    registry = ModelRegistry(home, [shared])
    with pytest.raises(ModelNotFoundError) as err:
        find_upscaler(registry, "4x-UltraSharp", "upscaler_1")
    assert err.value.status == 404 and err.value.field == "upscaler_1"
    assert "R-ESRGAN 4x+" in err.value.message and "models/ESRGAN" in err.value.hint
    with pytest.raises(ModelNotFoundError) as missing:
        find_upscaler(ModelRegistry(Home(home.root.parent / "empty").ensure()), "R-ESRGAN 4x+", "hr_upscaler")
    assert "RealESRGAN_x4plus.pth" in missing.value.hint and "maple-models pull" in missing.value.hint


@pytest.mark.parametrize(("stem", "scale"), [("4x-UltraSharp", 4), ("RealESRGAN_x2plus", 2), ("DAT_x3", 3),
                                            ("SwinIR_4x", 4), ("1x_ISO_denoise", 1), ("Remacri", 4)])
def test_the_scale_a_name_announces(stem: str, scale: int) -> None:
    assert scale_from_name(stem) == scale


def test_spandrel_detects_esrgan_and_compact_from_pth_and_safetensors(tmp_path: Path) -> None:
    release_upscalers()
    esrgan = load_upscaler(write_pth(tmp_path / "a.pth", esrgan_state()))
    assert (esrgan.arch, esrgan.scale) == ("ESRGAN", 4)
    compact = load_upscaler(write_safetensors(tmp_path / "b.safetensors", compact_state(scale=2)))
    assert (compact.arch, compact.scale) == ("Compact", 2)
    bare = load_upscaler(write_pth(tmp_path / "c.pth", compact_state(scale=4), wrap=None))
    assert (bare.arch, bare.scale) == ("Compact", 4)
    pixels = np.random.default_rng(0).integers(0, 256, (24, 20, 3), dtype=np.uint8)
    assert run_model(compact, pixels, Settings()).shape == (48, 40, 3)
    assert run_model(esrgan, pixels, Settings()).shape == (96, 80, 3)


def test_a_pth_with_pickled_code_is_refused_before_it_runs(tmp_path: Path, capsys) -> None:
    trap = write_pickle_trap(tmp_path / "trap.pth")
    with pytest.raises(PickleRefusedError):
        read_state_dict(trap)
    assert "pickled code ran" not in capsys.readouterr().out


def test_a_file_that_is_no_upscaler_says_so(tmp_path: Path) -> None:
    import torch

    path = tmp_path / "notes.pth"
    torch.save({"weight": torch.zeros(3)}, path)
    with pytest.raises(UpscalerError) as err:
        load_upscaler(path)
    assert "notes.pth" in err.value.message


def test_upscale_gives_the_size_asked_for(tmp_path: Path) -> None:
    from PIL import Image

    from engine.models.upscalers import Upscaler

    model = Upscaler("tiny", write_safetensors(tmp_path / "t.safetensors", compact_state(scale=2)), 2)
    image = Image.new("RGB", (50, 34), (200, 120, 40))
    assert upscale(image, model, 2).size == (96, 64)  # A1111 floors to multiples of 8
    assert upscale(image, model, 4).size == (200, 136)  # two passes of the 2x model
    assert upscale(image, model, 1.5).size == (72, 48)  # one pass, then Lanczos down to the size
    assert upscale(image, Upscaler("Nearest"), 2).getpixel((10, 10)) == (200, 120, 40)
