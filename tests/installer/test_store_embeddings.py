"""Textual-inversion embeddings in the model store: a kind of their own, from A1111's ``embeddings/``
and Forge's ``models/embeddings``, in the home and in shared 秋叶 folders."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from installer.cli.models import main
from installer.home import Home
from installer.store.model_store import ModelStore
from tests.installer.st_files import SD1_CHECKPOINT, write_st


def write_pickle(path: Path) -> Path:
    """A file shaped like torch.save's zip format (the store looks at the bytes, never unpickles)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{path.stem}/data.pkl", b"\x80\x02}q\x00.")
    return path


def fill(home: Home, shared: Path) -> None:
    write_st(home.root / "embeddings" / "EasyNegative.safetensors", {"emb_params": [8, 768]})
    write_pickle(home.root / "embeddings" / "sub" / "badhandv4.pt")
    write_pickle(home.root / "embeddings" / "learned_embeds.bin")
    write_st(home.root / "models" / "embeddings" / "xl_neg.safetensors", {"clip_g": [4, 1280], "clip_l": [4, 768]})
    write_st(home.root / "embeddings" / "sd2_neg.safetensors", {"emb_params": [2, 1024]})
    write_pickle(home.models_dir("checkpoint") / "stray.bin")  # .bin is read in embedding folders only
    write_st(shared / "models" / "Stable-diffusion" / "aki.safetensors", SD1_CHECKPOINT)
    write_st(shared / "embeddings" / "ng_deepnegative_v1_75t.safetensors", {"string_to_param.*": [75, 768]})


def test_embeddings_are_listed_as_their_own_kind_with_their_family(home: Home, tmp_path: Path) -> None:
    shared = tmp_path / "sd-webui-aki-v4"
    fill(home, shared)
    entries = {e.name: e for e in ModelStore(home, [str(shared)]).scan()}
    embeddings = {name: (e.arch, e.location) for name, e in entries.items() if e.kind == "embedding"}
    assert embeddings == {
        "EasyNegative.safetensors": ("sd1", "home"), "sub/badhandv4.pt": ("unknown", "home"),
        "learned_embeds.bin": ("unknown", "home"), "xl_neg.safetensors": ("sdxl", "home"),
        "sd2_neg.safetensors": ("sd2", "home"), "ng_deepnegative_v1_75t.safetensors": ("sd1", str(shared)),
    }
    assert "stray.bin" not in entries
    assert entries["aki.safetensors"].kind == "checkpoint"


def test_maple_models_lists_embeddings(home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fill(home, tmp_path / "aki")
    assert main(["--home", str(home.root), "list", "--kind", "embedding", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == {"EasyNegative.safetensors", "sub/badhandv4.pt", "learned_embeds.bin",
                                         "xl_neg.safetensors", "sd2_neg.safetensors"}
    assert main(["--home", str(home.root), "list"]) == 0
    table = capsys.readouterr().out
    assert any(line.split()[:2] == ["embedding", "EasyNegative.safetensors"] for line in table.splitlines())
    assert (home.root / "embeddings").is_dir()  # a new home has the folder ready, where A1111 has it
