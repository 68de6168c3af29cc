"""``maple-models add-folder`` counts what it found right, in plain English plurals; a .ckpt is told
apart by the tensor names inside it (read without unpickling), not only by its size."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.cli.models import main
from installer.cli.models_commands import counted
from installer.home import Home
from installer.settings import load_settings, save_settings
from installer.store.model_store import ModelStore
from installer.store.pickle_keys import pickle_kind
from tests.installer.st_files import SD1_CHECKPOINT, write_st


def _torch_file(path: Path, keys: list[str]) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {k: torch.zeros(2) for k in keys}}, str(path))
    return path


UNET = ["model.diffusion_model.input_blocks.0.0.weight", "cond_stage_model.transformer.x"]
VAE_KEYS = ["encoder.conv_in.weight", "decoder.conv_out.weight"]


def test_a_small_ckpt_checkpoint_in_a_flat_folder_is_a_checkpoint(home: Home, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    flat = tmp_path / "my models"
    write_st(flat / "a.safetensors", SD1_CHECKPOINT)
    _torch_file(flat / "b.ckpt", UNET)  # far under 1 GB: its size alone would call it a VAE
    _torch_file(flat / "c.pt", VAE_KEYS)
    assert main(["--home", str(home.root), "add-folder", str(flat)]) == 0
    out = capsys.readouterr().out
    assert "2 checkpoints, 1 VAE found" in out, out


def test_a_folder_the_settings_spell_with_a_tilde_is_counted(home: Home, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    write_st(tmp_path / "spelled" / "a.safetensors", SD1_CHECKPOINT)
    write_st(tmp_path / "spelled" / "b.safetensors", SD1_CHECKPOINT, seed=5)
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings(home.settings_file).settings
    save_settings(home.settings_file, settings.model_copy(update={"shared_folders": ["~/spelled"]}))  # as typed
    assert main(["--home", str(home.root), "add-folder", str(tmp_path / "spelled")]) == 0
    out = capsys.readouterr().out
    assert "already in use. 2 checkpoints found" in out, out


def test_pickle_kinds_come_from_the_names_inside(tmp_path: Path) -> None:
    assert pickle_kind(_torch_file(tmp_path / "unet.ckpt", UNET)) == "checkpoint"
    assert pickle_kind(_torch_file(tmp_path / "vae.pt", VAE_KEYS)) == "vae"
    assert pickle_kind(_torch_file(tmp_path / "other.pt", ["something.else"])) is None
    (tmp_path / "junk.ckpt").write_bytes(b"PK\x03\x04 not really a zip")
    assert pickle_kind(tmp_path / "junk.ckpt") is None


def test_plurals() -> None:
    assert counted(1, "checkpoint") == "1 checkpoint" and counted(2, "VAE") == "2 VAEs"
    assert counted(3, "file of unknown kind") == "3 files of unknown kind"


def test_store_kind_of_a_small_ckpt(home: Home, tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    _torch_file(flat / "tiny.ckpt", UNET)
    [entry] = ModelStore(home, [str(flat)]).scan()
    assert entry.kind == "checkpoint"


def test_list_explains_the_question_mark_once(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    (home.models_dir("vae") / "v.ckpt").write_bytes(b"\x80\x02" + b"\0" * 100)  # a legacy pickle: no names to read
    assert main(["--home", str(home.root), "list"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "v.ckpt" in line)
    assert row.split()[:3] == ["vae", "v.ckpt", "?"] and "unknown" not in row
    assert "?         in KIND or ARCH: the file's header does not say" in out
