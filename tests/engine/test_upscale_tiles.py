"""Tiled upscaling: the blend is exact where tiles agree, leaves no seams where they do not, and a
4x upscale of a 2048x2048 picture stays within the memory budget it is given."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine.generation.tile_blend import Tiles, run_tiled, split, tile_for_budget, weights
from engine.generation.upscale import Settings, run_model
from engine.models.upscaler_load import load_upscaler
from tests.engine.tinyupscalers import compact_state, esrgan_state, write_pth, write_safetensors

ROOT = Path(__file__).resolve().parents[2]


def _nearest(scale: int):
    return lambda part: part.repeat(scale, 0).repeat(scale, 1)


def _constant() -> np.ndarray:
    return np.full((64, 64, 3), 150, np.uint8)


def _gradient() -> np.ndarray:
    image = np.zeros((64, 64, 3), np.uint8)
    image[..., 0] = np.linspace(0, 255, 64)[None, :]
    image[..., 1] = np.linspace(0, 255, 64)[:, None]
    image[..., 2] = 90
    return image


@pytest.mark.parametrize(("shape", "tile", "overlap", "scale"), [((100, 75), 40, 16, 2), ((64, 64), 32, 8, 4),
                                                                 ((33, 90), 48, 32, 3), ((17, 17), 64, 16, 2)])
def test_tiles_of_a_model_that_agrees_with_itself_blend_to_the_whole_picture_exactly(shape, tile, overlap, scale) -> None:
    image = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
    whole = run_tiled(_nearest(scale), image, scale, 10_000, overlap)
    tiled = run_tiled(_nearest(scale), image, scale, tile, overlap)
    assert tiled.shape == (shape[0] * scale, shape[1] * scale, 3)
    assert np.array_equal(whole, tiled)


def test_the_weights_of_all_tiles_add_up_to_one_everywhere() -> None:
    for tiles, length in ((split(1000, 300, 40), 1000), (Tiles((0, 244, 488), 512), 1000), (split(50, 20, 10), 50)):
        total = np.zeros(length * 2)
        for (start, end), w in zip(tiles.spans(), weights(tiles, length, 2), strict=True):
            assert w.min() >= 0
            total[start * 2 : end * 2] += w
        assert np.allclose(total, 1.0, atol=1e-5)
    assert split(1000, 300, 40).size <= 300 and split(200, 300, 40) == Tiles((0,), 200)


@pytest.mark.parametrize("picture", [_constant, _gradient], ids=["constant", "gradient"])
def test_a_real_model_tiled_leaves_no_seams(tmp_path: Path, picture) -> None:
    model = load_upscaler(write_pth(tmp_path / "RealESRGAN_x4plus.pth", esrgan_state()))
    image = picture()
    whole = run_model(model, image, Settings(tile=4096)).astype(int)
    tiled = run_model(model, image, Settings(tile=40)).astype(int)  # 3x3 tiles with 20 pixels shared
    assert whole.shape == tiled.shape == (256, 256, 3)
    assert whole.std() > 2  # the random model draws a picture (its edges at least), not a flat field
    difference = np.abs(whole - tiled)
    assert difference.max() <= 6 and difference.mean() < 0.5
    # a seam would be a jump between neighbouring columns (or rows) that the whole picture does not have
    for axis in (0, 1):
        jumps_tiled = np.abs(np.diff(tiled, axis=axis)).mean(axis=(1 - axis, 2))
        jumps_whole = np.abs(np.diff(whole, axis=axis)).mean(axis=(1 - axis, 2))
        assert (jumps_tiled - jumps_whole).max() < 1.5


def test_the_tile_fits_the_budget() -> None:
    per_pixel, scale, width = 2240.0, 4, 2048
    for budget in (64 * 2**20, 256 * 2**20, 2**30):
        tile = tile_for_budget(budget, per_pixel, scale, width)
        assert tile % 8 == 0 and per_pixel * tile**2 + 24 * scale**2 * width * tile <= budget
    assert tile_for_budget(2**40, per_pixel, scale, 512) == 2048  # never above the largest tile


@pytest.mark.slow
def test_a_4x_upscale_of_a_2048_picture_stays_within_its_memory_budget(tmp_path: Path) -> None:
    model = write_safetensors(tmp_path / "compact4x.safetensors", compact_state(scale=4))
    code = textwrap.dedent(f"""
        import resource, numpy as np
        from pathlib import Path
        from engine.models.upscaler_load import load_upscaler
        from engine.generation.upscale import run_model, Settings
        model = load_upscaler(Path({str(model)!r}))
        image = np.random.default_rng(0).integers(0, 256, (2048, 2048, 3), dtype=np.uint8)
        run_model(model, image[:64, :64], Settings())
        start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = run_model(model, image, Settings(budget=256 * 2**20))
        print(out.shape, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) * 1024)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)
    shape, grew = done.stdout.strip().rsplit(" ", 1)
    assert shape == "(8192, 8192, 3)"
    output = 8192 * 8192 * 3
    # the budget, the result itself and allocator slack; a whole-picture pass needs over 2 GB more
    assert int(grew) < 256 * 2**20 + output + 160 * 2**20, int(grew) // 2**20
