"""The HED preprocessors: softedge_hed, softedge_hedsafe and scribble_hed on random and hand-set weights."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.generation import annotator_hed as hed
from engine.generation import annotators
from engine.generation import preprocessors as pre
from tests.engine.annotator_helpers import png_b64, routes_app

NAMES = ("softedge_hed", "softedge_hedsafe", "scribble_hed")


def picture(h: int = 64, w: int = 64) -> np.ndarray:
    image = np.zeros((h, w, 3), np.uint8)
    image[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = (250, 200, 150)
    return image


def write_hed_weights(path: Path, seed: int = 0) -> Path:
    """Random weights in ControlNetHED.pth's layout (its key names and shapes)."""
    torch.manual_seed(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(hed.build_network().state_dict(), str(path))
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ...]:
    root = tmp_path_factory.mktemp("hed")
    write_hed_weights(root / "aki" / annotators.A1111_DIR / "hed" / "ControlNetHED.pth")
    return annotators.weight_folders(root / "home", [str(root / "aki")])


def test_the_modules_have_the_extension_names_aliases_and_sliders() -> None:
    for name in NAMES:
        module = pre.find_module(name)
        assert module.weights == ("hed", "ControlNetHED.pth") and module.resolution
        assert module.threshold_a is None and module.threshold_b is None
    assert [pre.find_module(n).control_type for n in NAMES] == ["SoftEdge", "SoftEdge", "Scribble"]
    assert pre.find_module("hed").name == "softedge_hed"
    assert pre.find_module("hed_safe").name == "softedge_hedsafe"
    assert pre.find_module("fake_scribble").name == "scribble_hed"
    assert pre.find_module("scribble").name == "scribble_hed"


def test_a_missing_weight_names_the_file_and_the_folder(tmp_path: Path) -> None:
    roots = annotators.weight_folders(tmp_path / "home", [str(tmp_path / "aki")])
    for name in NAMES:
        with pytest.raises(annotators.AnnotatorMissingError) as caught:
            pre.detect(pre.find_module(name), picture(), 64, -1, -1, weight_folders=roots)
        assert caught.value.status == 422 and "ControlNetHED.pth" in caught.value.message
        assert f"{annotators.A1111_DIR}/hed" in caught.value.message
        assert str(tmp_path / "home" / annotators.HOME_DIR / "hed" / "ControlNetHED.pth") in caught.value.hint


def test_maps_from_random_weights_have_the_size_range_and_levels(folders: tuple[str, ...]) -> None:
    image = picture(40, 70)
    maps = {name: pre.detect(pre.find_module(name), image, 50, -1, -1, weight_folders=folders) for name in NAMES}
    for name, out in maps.items():
        assert out.shape == (50, 88, 3) and out.dtype == np.float32, name
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0, name
        assert np.array_equal(out[..., 0], out[..., 2]), name  # grey
        again = pre.detect(pre.find_module(name), image, 50, -1, -1, weight_folders=folders)
        assert np.array_equal(out, again), name
    assert set(np.unique(maps["softedge_hedsafe"] * 255).round()) <= {0.0, 127.0, 255.0}
    assert set(np.unique(maps["scribble_hed"])) <= {0.0, 1.0}
    levels = np.unique(maps["softedge_hed"] * 255)
    assert np.allclose(levels, levels.round(), atol=1e-4)  # 256 grey levels


def hand_set_network_file(path: Path) -> Path:
    """A network that sees the picture's brightness above 100 in its first block and a bias of 2.5 in its last."""
    net = hed.build_network()
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.norm.fill_(100.0)
        net.block1.convs[0].weight[0, :, 1, 1] = 1.0 / 3.0
        net.block1.convs[1].weight[0, 0, 1, 1] = 1.0
        net.block1.projection.weight[0, 0] = 0.05
        net.block5.projection.bias[0] = 2.5  # a side output 16 times smaller, scaled back up
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), str(path))
    return path


def test_the_side_outputs_are_averaged_through_a_sigmoid(tmp_path: Path) -> None:
    hand_set_network_file(tmp_path / annotators.HOME_DIR / "hed" / "ControlNetHED.pth")
    roots = annotators.weight_folders(tmp_path, [])
    image = np.zeros((48, 80, 3), np.uint8)
    image[:, 40:] = 255
    out = pre.detect(pre.find_module("softedge_hed"), image, 48, -1, -1, weight_folders=roots)[..., 0] * 255
    # white: sigmoid((155 * 0.05 + 2.5) / 5) = 0.886 -> 225; black: sigmoid(2.5 / 5) = 0.622 -> 158
    assert np.allclose(out[:, 41:], 225.0) and np.allclose(out[:, :39], 158.0)
    safe = pre.detect(pre.find_module("softedge_hedsafe"), image, 48, -1, -1, weight_folders=roots)[..., 0]
    assert np.allclose(safe[:, 41:], 1.0) and np.allclose(safe[:, :39], 127 / 255)


def test_three_levels_cut_the_range_in_thirds() -> None:
    edge = np.array([0.1, 0.34, 0.5, 0.66, 0.7, 0.99])
    assert hed.grey_levels(hed.three_levels(edge)).tolist() == [0, 127, 127, 127, 255, 255]


def sloped_ridge(peak: float = 255.0) -> np.ndarray:
    """A soft vertical line at column 32, a little brighter at each row down."""
    x, y = np.arange(64, dtype=np.float64), np.arange(64, dtype=np.float64)[:, None]
    return (peak * np.exp(-((x - 32) ** 2) / 72.0) * (0.9 + 0.1 * y / 63)).astype(np.uint8)


def test_scribble_strokes_follow_the_ridge_of_a_soft_edge() -> None:
    thin = hed.ridges(sloped_ridge(), hed.STROKE_LEVEL, hed.STROKE_SIGMA)
    # the band is cut to its peak across the line, but for the first and last rows, which have a neighbour
    # on one side only
    assert thin[1:63, 32].all() and int(thin[1:63].sum()) == 62 and thin[[0, 63], 28:37].all()
    lines = hed.strokes(sloped_ridge())
    assert lines.dtype == bool and lines[12:50, 26:39].all()  # the one-pixel line thickened 6 pixels each side
    assert not lines[12:50, :26].any() and not lines[12:50, 39:].any()
    assert not hed.strokes(sloped_ridge(120.0)).any()  # too faint to be a stroke


def test_a_file_with_other_keys_or_code_is_refused(tmp_path: Path) -> None:
    target = tmp_path / annotators.HOME_DIR / "hed" / "ControlNetHED.pth"
    target.parent.mkdir(parents=True)
    roots = annotators.weight_folders(tmp_path, [])
    torch.save(annotators._line_generator(3).state_dict(), str(target))  # the lineart network's file
    with pytest.raises(annotators.AnnotatorMissingError, match="ControlNetHED.pth cannot be used as the HED network"):
        pre.detect(pre.find_module("softedge_hed"), picture(), 64, -1, -1, weight_folders=roots)

    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (print, ("ran",))

    torch.save({"norm": Payload()}, str(target))
    with pytest.raises(annotators.AnnotatorMissingError, match="cannot be used as the HED network"):
        pre.detect(pre.find_module("scribble"), picture(), 64, -1, -1, weight_folders=roots)


def test_the_routes_list_the_modules_and_detect_with_them(tmp_path: Path) -> None:
    client = routes_app(tmp_path / "home", [str(tmp_path / "aki")])
    listed: dict[str, Any] = client.get("/controlnet/module_list").json()
    assert set(NAMES) <= set(listed["module_list"])
    assert [s["name"] for s in listed["module_detail"]["softedge_hed"]["sliders"]] == ["Preprocessor Resolution"]
    types = client.get("/controlnet/control_types").json()["control_types"]
    assert {"softedge_hed", "softedge_hedsafe"} <= set(types["SoftEdge"]["module_list"])
    assert types["SoftEdge"]["default_option"] != "none"
    assert "scribble_hed" in types["Scribble"]["module_list"]
    body = {"controlnet_module": "scribble", "controlnet_input_images": [png_b64(picture())],
            "controlnet_processor_res": 64}
    r = client.post("/controlnet/detect", json=body)
    assert r.status_code == 422 and "ControlNetHED.pth" in r.json()["detail"]
    assert "models/ControlNetPreprocessor/hed/ControlNetHED.pth" in r.json()["hint"]
    write_hed_weights(tmp_path / "home" / annotators.HOME_DIR / "hed" / "ControlNetHED.pth", seed=2)
    r = client.post("/controlnet/detect", json=body)
    assert r.status_code == 200, r.text
    detected = np.asarray(Image.open(io.BytesIO(base64.b64decode(r.json()["images"][0]))))
    assert detected.shape[:2] == (64, 64) and set(np.unique(detected)) <= {0, 255}
