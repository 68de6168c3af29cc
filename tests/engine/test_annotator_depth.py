"""depth_anything: the published files' key sets, strict loading, the map around the network, refusals."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.generation import annotator_depth as depth
from engine.generation import annotators
from engine.generation import preprocessors as pre
from tests.engine.annotator_helpers import png_b64, routes_app

# encoder -> (width, blocks, head width, projections) and the published parameter counts (millions)
PUBLISHED = {"vits": (384, 12, 64, (48, 96, 192, 384), 24.8), "vitb": (768, 12, 128, (96, 192, 384, 768), 97.5),
             "vitl": (1024, 24, 256, (256, 512, 1024, 1024), 335.3)}


def published_keys(encoder: str) -> dict[str, tuple[int, ...]]:
    """Every tensor of a depth_anything_<encoder>14.pth file, with its shape, written out from the layout."""
    d, blocks, f, outs, _ = PUBLISHED[encoder]
    keys: dict[str, tuple[int, ...]] = {
        "pretrained.cls_token": (1, 1, d), "pretrained.pos_embed": (1, 37 * 37 + 1, d), "pretrained.mask_token": (1, d),
        "pretrained.patch_embed.proj.weight": (d, 3, 14, 14), "pretrained.patch_embed.proj.bias": (d,),
        "pretrained.norm.weight": (d,), "pretrained.norm.bias": (d,)}
    for i in range(blocks):
        b = f"pretrained.blocks.{i}."
        keys.update({b + "norm1.weight": (d,), b + "norm1.bias": (d,), b + "attn.qkv.weight": (3 * d, d),
                     b + "attn.qkv.bias": (3 * d,), b + "attn.proj.weight": (d, d), b + "attn.proj.bias": (d,),
                     b + "ls1.gamma": (d,), b + "norm2.weight": (d,), b + "norm2.bias": (d,),
                     b + "mlp.fc1.weight": (4 * d, d), b + "mlp.fc1.bias": (4 * d,), b + "mlp.fc2.weight": (d, 4 * d),
                     b + "mlp.fc2.bias": (d,), b + "ls2.gamma": (d,)})
    h = "depth_head."
    for i, o in enumerate(outs):
        keys.update({f"{h}projects.{i}.weight": (o, d, 1, 1), f"{h}projects.{i}.bias": (o,),
                     f"{h}scratch.layer{i + 1}_rn.weight": (f, o, 3, 3)})
    for i, k in ((0, 4), (1, 2), (3, 3)):
        keys.update({f"{h}resize_layers.{i}.weight": (outs[i], outs[i], k, k), f"{h}resize_layers.{i}.bias": (outs[i],)})
    for i in range(1, 5):
        r = f"{h}scratch.refinenet{i}."
        keys.update({r + "out_conv.weight": (f, f, 1, 1), r + "out_conv.bias": (f,)})
        for unit in ("resConfUnit1", "resConfUnit2"):
            for conv in ("conv1", "conv2"):
                keys.update({f"{r}{unit}.{conv}.weight": (f, f, 3, 3), f"{r}{unit}.{conv}.bias": (f,)})
    keys.update({f"{h}scratch.output_conv1.weight": (f // 2, f, 3, 3), f"{h}scratch.output_conv1.bias": (f // 2,),
                 f"{h}scratch.output_conv2.0.weight": (32, f // 2, 3, 3), f"{h}scratch.output_conv2.0.bias": (32,),
                 f"{h}scratch.output_conv2.2.weight": (1, 32, 1, 1), f"{h}scratch.output_conv2.2.bias": (1,)})
    return keys


def write_depth_weights(path: Path, seed: int = 0, blocks: int | None = None) -> Path:
    """Random weights in the small published file's layout (``blocks`` fewer encoder blocks if given)."""
    torch.manual_seed(seed)
    layout = depth.real_layout("vits")
    if blocks is not None:
        layout = {**layout, "blocks": blocks}
    state = depth.build(layout).state_dict()
    state["depth_head.scratch.output_conv2.2.bias"].fill_(1.0)  # keep the last ReLU open: a map with detail
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, str(path))
    return path


def picture(h: int, w: int) -> np.ndarray:
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None]
    image[h // 4: 3 * h // 4, w // 4: w // 2] = (40, 220, 90)
    return image


@pytest.mark.parametrize("encoder", ["vits", "vitb", "vitl"])
def test_the_published_files_key_sets_are_what_the_network_has(encoder: str) -> None:
    with torch.device("meta"):
        net = depth.build(depth.real_layout(encoder))
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert got == published_keys(encoder)
    assert round(sum(v.numel() for v in net.state_dict().values()) / 1e6, 1) == PUBLISHED[encoder][4]
    with torch.device("meta"):  # and the sizes read back from such a file are the published ones
        assert depth._layout(dict(net.state_dict())) == depth.real_layout(encoder)


def test_the_full_small_file_loads_strictly_and_gives_a_grey_map(tmp_path: Path) -> None:
    folders = annotators.weight_folders(tmp_path / "home", [str(tmp_path / "aki")])
    write_depth_weights(tmp_path / "aki" / annotators.A1111_DIR / "depth_anything" / "depth_anything_vits14.pth")
    out = pre.detect(pre.find_module("depth_anything"), picture(32, 32), 64, -1, -1, weight_folders=folders)
    assert len(next(iter(depth._NETS.values())).pretrained.blocks) == 12
    assert out.shape == (64, 64, 3) and out.dtype == np.float32
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 0] == out[..., 2]).all()
    levels = out[..., 0] * 255.0
    assert np.allclose(levels, np.round(levels), atol=1e-4)  # whole grey levels
    assert float(out.min()) == 0.0 and float(out.max()) == 1.0  # stretched over its own range (no padding here)
    assert len(np.unique(levels.round())) > 16


def test_a_file_with_fewer_blocks_loads_and_one_with_too_few_is_refused(tmp_path: Path) -> None:
    folders = annotators.weight_folders(tmp_path, [])
    path = write_depth_weights(tmp_path / annotators.HOME_DIR / "depth_anything" / "depth_anything_vits14.pth",
                               blocks=4)
    module = pre.find_module("depth_anything")
    out = pre.detect(module, picture(40, 50), 64, -1, -1, weight_folders=folders)
    assert out.shape == (64, 80, 3) and float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    depth._NETS.clear()  # loaded again from the file: the same map
    assert np.array_equal(out, pre.detect(module, picture(40, 50), 64, -1, -1, weight_folders=folders))
    write_depth_weights(path, blocks=3)
    with pytest.raises(annotators.AnnotatorMissingError, match="3 encoder blocks; the depth head reads the last 4"):
        pre.detect(module, picture(40, 50), 64, -1, -1, weight_folders=folders)


class ChannelNet(torch.nn.Module):
    """Stands in for the network: its answer is the first channel it is fed (to 3 decimals)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0].round(decimals=3)


def test_the_map_is_the_answer_stretched_with_the_padding_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, ...]] = []

    def fake(path: Path) -> Any:
        net = ChannelNet()
        net.register_forward_pre_hook(lambda _m, args: seen.append(tuple(args[0].shape)))
        return net

    monkeypatch.setattr(depth, "depth_network", fake)
    image = np.zeros((70, 100, 3), np.uint8)
    image[..., 2] = np.linspace(0, 255, 100).round().astype(np.uint8)[None]  # blue: dark left, bright right
    out = depth.run_depth_anything(image, Path("unused"))
    assert seen == [(1, 3, 518, 518)]  # padded to 128x128, then to the network's 518
    assert out.shape == (70, 100, 3)
    row = out[35, :, 0]
    assert row[0] == 0.0 and (np.diff(row) >= 0).all() and row[-1] > 0.7  # the edge-padded part holds the maximum
    red = np.zeros((70, 100, 3), np.uint8)
    red[..., 0] = np.linspace(0, 255, 100).astype(np.uint8)[None]  # red alone: the network is fed blue first
    assert float(depth.run_depth_anything(red, Path("unused")).max()) == 0.0
    assert depth.net_size(512, 768) == (518, 784) and depth.net_size(600, 300) == (1036, 518)


def test_a_missing_file_names_the_files_and_the_folder(tmp_path: Path) -> None:
    folders = annotators.weight_folders(tmp_path / "home", [str(tmp_path / "aki")])
    with pytest.raises(annotators.AnnotatorMissingError) as caught:
        pre.detect(pre.find_module("depth_anything"), picture(32, 32), 64, -1, -1, weight_folders=folders)
    assert caught.value.status == 422
    assert "depth_anything_vitl14.pth (or depth_anything_vitb14.pth / depth_anything_vits14.pth)" in caught.value.message
    assert str(tmp_path / "home" / annotators.HOME_DIR / "depth_anything") in caught.value.hint
    assert f"{annotators.A1111_DIR}/depth_anything" in caught.value.message


def test_the_large_file_comes_first_when_several_are_there(tmp_path: Path) -> None:
    folder = tmp_path / annotators.A1111_DIR / "depth_anything"
    folder.mkdir(parents=True)
    for name in depth.FILES:
        (folder / name).write_bytes(b"")
    found = annotators.find_weights(depth.FOLDER, depth.FILES[0], (str(tmp_path / annotators.A1111_DIR),),
                                    depth.FILES[1:])
    assert found.name == "depth_anything_vitl14.pth"


def test_files_that_are_not_this_network_are_refused(tmp_path: Path) -> None:
    folders = annotators.weight_folders(tmp_path, [])
    path = tmp_path / annotators.HOME_DIR / "depth_anything" / "depth_anything_vits14.pth"
    path.parent.mkdir(parents=True)
    module = pre.find_module("depth_anything")

    def refused(match: str) -> None:
        depth._NETS.clear()
        with pytest.raises(annotators.AnnotatorMissingError, match=match) as caught:
            pre.detect(module, picture(32, 32), 64, -1, -1, weight_folders=folders)
        assert "cannot be used as the depth_anything network" in caught.value.message

    torch.save(annotators._line_generator(3).state_dict(), str(path))  # another annotator's file
    refused("not a Depth Anything network")
    state = depth.build({**depth.real_layout("vits"), "blocks": 4}).state_dict()
    state["depth_head.readout_projects.0.0.weight"] = torch.zeros(384, 768)
    torch.save(state, str(path))
    refused("Unexpected key")

    class Payload:
        def __reduce__(self) -> tuple[object, ...]:
            return (print, ("ran",))

    torch.save({"x": Payload()}, str(path))
    refused("Weights only load failed|weights_only")


def test_the_routes_list_depth_anything_and_detect_with_it(tmp_path: Path) -> None:
    client = routes_app(tmp_path / "home", [str(tmp_path / "aki")])
    listed: dict[str, Any] = client.get("/controlnet/module_list").json()
    assert "depth_anything" in listed["module_list"]
    assert [s["name"] for s in listed["module_detail"]["depth_anything"]["sliders"]] == ["Preprocessor Resolution"]
    types = client.get("/controlnet/control_types").json()["control_types"]
    assert "depth_anything" in types["Depth"]["module_list"]
    body = {"controlnet_module": "depth_anything", "controlnet_input_images": [png_b64(picture(48, 64))],
            "controlnet_processor_res": 64}
    r = client.post("/controlnet/detect", json=body)
    assert r.status_code == 422 and "depth_anything_vitl14.pth" in r.json()["detail"]
    assert "models/ControlNetPreprocessor/depth_anything" in r.json()["hint"]
    write_depth_weights(tmp_path / "aki" / annotators.A1111_DIR / "depth_anything" / "depth_anything_vits14.pth",
                        blocks=4)
    r = client.post("/controlnet/detect", json=body)
    assert r.status_code == 200, r.text
    detected = np.asarray(Image.open(io.BytesIO(base64.b64decode(r.json()["images"][0]))))
    assert detected.shape == (64, 85, 3) and (detected[..., 0] == detected[..., 2]).all()
