"""The model store knows upscalers: A1111's four folders, in the home and in shared 秋叶 folders,
their own kind in ``maple-models list``, families told apart from the header."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from installer.cli.models import main
from installer.home import Home, kind_dirs
from installer.store.model_store import ModelStore
from installer.store.modelfile import classify, read_header

ESRGAN_KEYS = ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight", "conv_up1.weight", "conv_last.weight")
COMPACT_KEYS = ("body.0.weight", "body.1.weight", "body.2.weight", "body.3.weight", "body.4.weight")


def _write(path: Path, keys: tuple[str, ...]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.zeros((2, 2), np.float32) for k in keys}, str(path))
    return path


def _pickle_like(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x80\x02" + b"\x00" * 200)  # a legacy torch pickle's first bytes: never unpickled here
    return path


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    home = Home(tmp_path / "home").ensure()
    _write(home.root / "models/ESRGAN/4x-Tiny.safetensors", ESRGAN_KEYS)
    _pickle_like(home.root / "models/RealESRGAN/RealESRGAN_x4plus.pth")
    _write(home.root / "models/DAT/odd-family.safetensors", ("stem.weight", "stage.0.mixer.weight", "head.weight"))
    shared = tmp_path / "sd-webui-aki-v4.10"
    _write(shared / "models/SwinIR/compact-2x.safetensors", COMPACT_KEYS)
    (shared / "models/Stable-diffusion").mkdir(parents=True)
    return ModelStore(home, [str(shared)])


def test_a1111s_upscaler_folders_belong_to_the_kind() -> None:
    assert kind_dirs("upscaler") == ("models/ESRGAN", "models/RealESRGAN", "models/SwinIR", "models/DAT")


def test_upscalers_are_listed_with_their_own_kind_and_family(store: ModelStore) -> None:
    found = {e.name: e for e in store.scan() if e.kind == "upscaler"}
    assert set(found) == {"4x-Tiny.safetensors", "RealESRGAN_x4plus.pth", "odd-family.safetensors", "compact-2x.safetensors"}
    assert found["4x-Tiny.safetensors"].arch == "esrgan"
    assert found["compact-2x.safetensors"].arch == "compact" and found["compact-2x.safetensors"].location != "home"
    assert found["RealESRGAN_x4plus.pth"].arch == "unknown"  # a pickle is never opened by the store
    assert found["odd-family.safetensors"].arch == "unknown"  # a family the header check does not name


def test_the_header_tells_upscalers_from_other_files(tmp_path: Path) -> None:
    assert classify(read_header(_write(tmp_path / "a.safetensors", ESRGAN_KEYS))) == ("upscaler", "esrgan")
    assert classify(read_header(_write(tmp_path / "b.safetensors", COMPACT_KEYS))) == ("upscaler", "compact")
    old = ("model.0.weight", "model.1.sub.0.RDB1.conv1.0.weight", "model.3.weight")
    assert classify(read_header(_write(tmp_path / "c.safetensors", old))) == ("upscaler", "esrgan")
    lora = ("lora_unet_down_blocks_0.lora_down.weight", "lora_unet_down_blocks_0.lora_up.weight")
    assert classify(read_header(_write(tmp_path / "d.safetensors", lora)))[0] == "lora"


def test_maple_models_list_shows_the_upscaler_kind(store: ModelStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(store.home.root), "list", "--kind", "upscaler", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in listed] == ["4x-Tiny.safetensors", "odd-family.safetensors", "RealESRGAN_x4plus.pth"]
    assert main(["--home", str(store.home.root), "list", "--kind", "upscaler"]) == 0
    table = capsys.readouterr().out
    assert "upscaler  4x-Tiny.safetensors" in table and "ESRGAN" in table
