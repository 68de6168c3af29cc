"""The lineart_anime preprocessor: the anime line-art U-Net, read only from local folders.

The published network is 54 million weights; the tests check its layout on the meta device and run
random-weight copies of the same layout 4 channels wide (the width is read from the file).
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.generation import annotator_anime as anime
from engine.generation import annotators
from engine.generation import preprocessors as pre
from installer.errors import MapleError
from tests.engine.annotator_helpers import routes_app

WIDTH = 4
BOTTLENECK = "model.model.1" + ".model.3" * 6 + ".model.1.weight"  # the innermost down convolution


def picture(h: int = 64, w: int = 64) -> np.ndarray:
    image = np.full((h, w, 3), 240, np.uint8)
    image[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = (30, 60, 200)
    return image


def small_net(seed: int = 0) -> Any:
    torch.manual_seed(seed)
    return anime.anime_line_net(WIDTH)


def write_anime_weights(path: Path, seed: int = 0, prefix: str = "") -> Path:
    """Random weights in netG.pth's layout (its names and shapes), WIDTH channels at the top."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({prefix + k: v for k, v in small_net(seed).state_dict().items()}, str(path))
    return path


def roots(tmp_path: Path) -> tuple[str, ...]:
    return annotators.weight_folders(tmp_path / "home", [str(tmp_path / "aki")])


def home_file(tmp_path: Path) -> Path:
    return tmp_path / "home" / annotators.HOME_DIR / "lineart_anime" / "netG.pth"


def detect(image: np.ndarray, res: int, folders: tuple[str, ...]) -> np.ndarray:
    return pre.detect(pre.find_module("lineart_anime"), image, res, -1, -1, weight_folders=folders)


def test_the_module_has_the_extension_name_type_and_sliders() -> None:
    module = pre.find_module("lineart_anime")
    assert module.weights == ("lineart_anime", "netG.pth") and module.control_type == "Lineart"
    assert module.resolution and module.threshold_a is None and module.threshold_b is None
    with pytest.raises(MapleError, match="no preprocessor 'lineart_anime_denoise'"):
        pre.find_module("lineart_anime_denoise")  # another network (manga lines), not this one


def test_the_published_layout_is_the_54_million_weight_u_net() -> None:
    with torch.device("meta"):
        state = anime.anime_line_net().state_dict()
    assert len(state) == 32 and sum(v.numel() for v in state.values()) == 54_405_505
    assert tuple(state["model.model.0.weight"].shape) == (64, 3, 4, 4)
    assert tuple(state["model.model.1.model.1.weight"].shape) == (128, 64, 4, 4)
    assert tuple(state[BOTTLENECK].shape) == (512, 512, 4, 4)
    assert tuple(state["model.model.3.weight"].shape) == (128, 1, 4, 4)  # the last up convolution: one channel


def test_maps_have_the_picture_size_range_and_are_repeatable(tmp_path: Path) -> None:
    folders = roots(tmp_path)
    write_anime_weights(tmp_path / "aki" / annotators.A1111_DIR / "lineart_anime" / "netG.pth")
    out = detect(picture(), 64, folders)
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0 and float(out.std()) > 0.0
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 0], out[..., 2])
    assert np.array_equal(out, detect(picture(), 64, folders))
    wide = detect(picture(40, 80), 48, folders)  # scaled to 48 x 96, padded to 64 x 128, fed at 256
    assert wide.shape == (48, 96, 3)
    write_anime_weights(home_file(tmp_path), seed=1)  # the home's folder comes first
    assert not np.array_equal(out, detect(picture(), 64, folders))


def test_the_map_is_the_drawing_inverted_from_pixels_in_minus_one_to_one(tmp_path: Path) -> None:
    write_anime_weights(home_file(tmp_path), seed=2)
    image = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    out = detect(image, 256, roots(tmp_path))  # 256: neither padded nor scaled
    x = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None] / 127.5 - 1.0
    with torch.no_grad():
        drawing = small_net(2).eval()(x)[0, 0].numpy()
    np.testing.assert_allclose(out[..., 0], ((1.0 - drawing) / 2.0).clip(0, 1), atol=1e-6)


def test_white_paper_is_a_black_map_through_the_scaling(tmp_path: Path) -> None:
    net = small_net()
    with torch.no_grad():  # a drawing of plain paper at 0.5: tanh(atanh(0.5)) everywhere
        net.model.model[3].weight.zero_()
        net.model.model[3].bias.fill_(math.atanh(0.5))
    path = home_file(tmp_path)
    path.parent.mkdir(parents=True)
    torch.save(net.state_dict(), str(path))
    out = detect(picture(37, 83), 37, roots(tmp_path))
    assert out.shape == (37, 83, 3)
    np.testing.assert_allclose(out, 0.25, atol=1e-5)  # 255 - (0.5 * 127.5 + 127.5), over 255


def test_a_multi_gpu_save_with_module_prefixes_loads(tmp_path: Path) -> None:
    write_anime_weights(tmp_path / "plain" / "lineart_anime" / "netG.pth", seed=3)
    write_anime_weights(tmp_path / "gpus" / "lineart_anime" / "netG.pth", seed=3, prefix="module.")
    plain = detect(picture(), 64, (str(tmp_path / "plain"),))
    assert np.array_equal(plain, detect(picture(), 64, (str(tmp_path / "gpus"),)))


def test_a_missing_weight_names_the_file_and_the_folder(tmp_path: Path) -> None:
    with pytest.raises(annotators.AnnotatorMissingError) as caught:
        detect(picture(), 64, roots(tmp_path))
    assert caught.value.status == 422 and "netG.pth" in caught.value.message
    assert f"{annotators.A1111_DIR}/lineart_anime" in caught.value.message
    assert str(home_file(tmp_path)) in caught.value.hint


def refused(tmp_path: Path, state: object, match: str) -> None:
    path = home_file(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, str(path))
    with pytest.raises(annotators.AnnotatorMissingError, match=match) as caught:
        detect(picture(), 64, roots(tmp_path))
    assert caught.value.status == 422 and "cannot be used as the anime line-art network" in caught.value.message


def test_files_of_another_layout_are_refused(tmp_path: Path) -> None:
    refused(tmp_path, torch.zeros(3), "holds a Tensor, not a state dict")
    refused(tmp_path, {"model0.1.weight": torch.zeros(64, 3, 7, 7)}, "no first convolution model.model.0.weight")
    state = small_net().state_dict()
    del state[BOTTLENECK]
    refused(tmp_path, state, "Missing key")
    state = small_net().state_dict()
    state["model.model.1.model.2.weight"] = torch.ones(2 * WIDTH)  # a norm with weights: not this net
    refused(tmp_path, state, "Unexpected key")


def test_a_pickle_that_runs_code_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (print, ("ran",))

    refused(tmp_path, {"model.model.0.weight": Payload()}, "Weights only load failed|weights_only")
    assert "ran" not in capsys.readouterr().out


def test_the_routes_list_it_and_detect_runs_it(tmp_path: Path) -> None:
    client = routes_app(tmp_path / "home", [str(tmp_path / "aki")])
    modules = client.get("/controlnet/module_list").json()
    assert "lineart_anime" in modules["module_list"]
    assert modules["module_detail"]["lineart_anime"]["sliders"] == [
        {"name": "Preprocessor Resolution", "value": 512, "min": 64, "max": 2048}]
    types = client.get("/controlnet/control_types").json()["control_types"]
    assert "lineart_anime" in types["Lineart"]["module_list"]
    buf = io.BytesIO()
    Image.fromarray(picture(64, 96)).save(buf, format="PNG")
    body = {"controlnet_module": "lineart_anime", "controlnet_processor_res": 64,
            "controlnet_input_images": [base64.b64encode(buf.getvalue()).decode()]}
    missing = client.post("/controlnet/detect", json=body)
    assert missing.status_code == 422 and "netG.pth" in missing.json()["detail"]
    assert "models/ControlNetPreprocessor/lineart_anime/netG.pth" in missing.json()["hint"]
    write_anime_weights(tmp_path / "aki" / annotators.A1111_DIR / "lineart_anime" / "netG.pth")
    found = client.post("/controlnet/detect", json=body)
    assert found.status_code == 200, found.text
    assert Image.open(io.BytesIO(base64.b64decode(found.json()["images"][0]))).size == (96, 64)
