"""ControlNet preprocessors: known edges from canny, sizes, thresholds, masks and refused names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import BadRequestError
from engine.generation import annotators
from engine.generation import preprocessors as pre


def white_square() -> np.ndarray:
    image = np.zeros((64, 64, 3), np.uint8)
    image[16:48, 16:48] = 255
    return image


def test_canny_on_a_square_gives_its_outline() -> None:
    edges = pre.canny_edges(white_square(), 100, 200)
    # the straight parts of each side, one pixel wide, where the gradient peaks (before the step on the
    # left and top, on its last bright pixel on the right and bottom)
    assert edges[20:44, 15].all() and edges[20:44, 47].all()
    assert edges[15, 20:44].all() and edges[47, 20:44].all()
    assert not edges[20:44, 16].any() and not edges[20:44, 46].any()
    inside, outside = edges[18:46, 18:46], edges.copy()
    outside[14:49, 14:49] = False
    assert not inside.any() and not outside.any()
    assert int(edges.sum()) == 124


def test_canny_thresholds_drop_weak_edges() -> None:
    soft = white_square() // 8  # a step of 31: gradient 124
    assert not pre.canny_edges(soft, 100, 200).any()
    assert pre.canny_edges(soft, 50, 100).any()


def test_detect_scales_to_processor_res_and_keeps_defaults() -> None:
    module = pre.find_module("canny")
    picture = np.zeros((48, 96, 3), np.uint8)
    assert pre.detect(module, picture, 128, -1, -1).shape == (128, 256, 3)
    tile = pre.detect(pre.find_module("tile_resample"), picture, 512, 2.0, -1)
    assert tile.shape == (24, 48, 3)  # tile ignores the resolution: only the down-sampling rate
    assert pre.detect(pre.find_module("none"), picture, 512, -1, -1).shape == (48, 96, 3)


def test_inpaint_only_marks_the_masked_pixels() -> None:
    picture = np.full((8, 8, 3), 255, np.uint8)
    mask = np.zeros((8, 8), np.uint8)
    mask[:, :4] = 255
    out = pre.detect(pre.find_module("inpaint_only"), picture, 512, -1, -1, mask)
    assert (out[:, :4] == -1).all() and (out[:, 4:] == 1).all()
    with pytest.raises(BadRequestError, match="needs a mask"):
        pre.detect(pre.find_module("inpaint_only"), picture, 512, -1, -1)


def test_line_modules_and_threshold() -> None:
    for name in ("scribble_xdog", "lineart_standard", "invert", "threshold"):
        out = pre.detect(pre.find_module(name), white_square(), 64, -1, -1)
        assert out.shape == (64, 64, 3) and out.min() >= 0.0 and out.max() <= 1.0
    lines = pre.detect(pre.find_module("scribble_xdog"), white_square(), 64, -1, -1)
    # a band on the dark side of each edge; the square's middle and the far background stay empty
    assert lines[10:16, 30].min() == 1.0 and lines[32, 10:16].min() == 1.0
    assert lines[32, 32].max() == 0.0 and lines[0, 0].max() == 0.0


def test_an_unknown_module_names_the_ones_there_are() -> None:
    with pytest.raises(BadRequestError, match="no preprocessor 'dw_openpose_full'; it has none, invert, canny"):
        pre.find_module("dw_openpose_full")


def write_line_weights(path: Path, seed: int = 0) -> Path:
    """Random weights in the lineart network's layout (sk_model.pth's names and shapes)."""
    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(annotators._line_generator(3).state_dict(), str(path))
    return path


def test_a_missing_network_weight_names_the_file_and_the_folder(tmp_path: Path) -> None:
    folders = annotators.weight_folders(tmp_path / "home", [str(tmp_path / "aki")])
    with pytest.raises(annotators.AnnotatorMissingError) as caught:
        pre.detect(pre.find_module("lineart"), white_square(), 64, -1, -1, weight_folders=folders)
    assert "sk_model.pth" in caught.value.message
    assert str(tmp_path / "home" / "models" / "ControlNetPreprocessor" / "lineart" / "sk_model.pth") in caught.value.hint


def test_lineart_runs_from_the_home_or_the_extensions_folder(tmp_path: Path) -> None:
    folders = annotators.weight_folders(tmp_path / "home", [str(tmp_path / "aki")])
    write_line_weights(tmp_path / "aki" / annotators.A1111_DIR / "lineart" / "sk_model2.pth")
    coarse = pre.detect(pre.find_module("lineart_coarse"), white_square(), 60, -1, -1, weight_folders=folders)
    assert coarse.shape == (60, 60, 3) and float(coarse.min()) >= 0.0 and float(coarse.max()) <= 1.0
    write_line_weights(tmp_path / "home" / annotators.HOME_DIR / "lineart" / "sk_model.pth", seed=1)
    fine = pre.detect(pre.find_module("lineart"), white_square(), 64, -1, -1, weight_folders=folders)
    assert fine.shape == (64, 64, 3) and not np.array_equal(fine, pre.detect(
        pre.find_module("lineart_coarse"), white_square(), 64, -1, -1, weight_folders=folders))


def test_a_lineart_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (print, ("ran",))

    bad = tmp_path / annotators.HOME_DIR / "sk_model.pth"
    bad.parent.mkdir(parents=True)
    torch.save({"x": Payload()}, str(bad))
    with pytest.raises(annotators.AnnotatorMissingError, match="cannot be used as the lineart network"):
        pre.detect(pre.find_module("lineart"), white_square(), 64, -1, -1,
                   weight_folders=annotators.weight_folders(tmp_path, []))
