"""The model lists: names, titles with hashes, broken files left out, safe lookups."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from engine.models.demo import ensure_demo_model
from engine.models.registry import ModelRegistry
from installer.errors import ModelNotFoundError, UnsafePathError
from installer.home import Home
from installer.store.hash_cache import HashCache
from tests.engine.tinymodels import (
    write_ckpt,
    write_tiny_checkpoint,
    write_tiny_lora,
    write_tiny_vae,
)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def filled(home: Home) -> Home:
    ckpt = home.models_dir("checkpoint")
    write_tiny_checkpoint(ckpt / "alpha.safetensors", "sd1")
    write_tiny_checkpoint(ckpt / "anime" / "beta.safetensors", "sd1", seed=1)
    (ckpt / "broken.safetensors").write_bytes(b"<!DOCTYPE html><html>404</html>")
    write_tiny_vae(home.models_dir("vae") / "kl-f8.safetensors")
    write_tiny_lora(home.models_dir("lora") / "detail.safetensors")
    return home


def test_lists_each_kind_without_broken_files(filled: Home) -> None:
    reg = ModelRegistry(filled)
    assert [c.name for c in reg.checkpoints()] == ["alpha.safetensors", "anime/beta.safetensors"]
    assert [v.name for v in reg.vaes()] == ["kl-f8.safetensors"]
    lora = reg.loras()[0]
    assert (lora.name, lora.stem, lora.kind) == ("detail.safetensors", "detail", "lora")
    assert reg.checkpoints()[1].model_name == "anime/beta"


def test_title_has_the_a1111_hash_computed_once_and_remembered(filled: Home) -> None:
    path = filled.models_dir("checkpoint") / "alpha.safetensors"
    reg = ModelRegistry(filled)
    info = reg.find_checkpoint("alpha")
    assert info.title == f"alpha.safetensors [{sha(path)[:10]}]"
    cache = HashCache(filled.cache_dir / "hashes.json")
    st = path.stat()
    record = cache.get(path, st.st_size, st.st_mtime_ns)
    assert record is not None and record.sha256 == sha(path)
    # a new registry (a restart) has the hash without reading the file again
    again = ModelRegistry(filled)
    assert again.checkpoints()[0].sha256 == sha(path)


def test_find_by_title_name_stem_and_hash(filled: Home) -> None:
    reg = ModelRegistry(filled)
    info = reg.find_checkpoint("anime/beta.safetensors")
    for query in (info.title, "anime/beta", "beta", "beta.safetensors", info.sha256[:10], f"[{info.sha256[:10]}]"):
        assert reg.find_checkpoint(query).path == info.path, query
    lora = reg.find_lora("detail")
    assert lora.lora_hash and len(lora.lora_hash) == 12


def test_unknown_name_lists_what_exists(filled: Home) -> None:
    with pytest.raises(ModelNotFoundError, match="alpha.safetensors"):
        ModelRegistry(filled).find_checkpoint("gamma")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..\\..\\x.safetensors", "C:\\x.ckpt",
                                  "anime/../../outside.safetensors"])
def test_names_leaving_the_model_folders_are_refused(filled: Home, name: str) -> None:
    with pytest.raises(UnsafePathError) as err:
        ModelRegistry(filled).find_checkpoint(name)
    assert err.value.code == "unsafe-name" and err.value.status == 422


def test_refresh_sees_new_and_removed_files(filled: Home) -> None:
    reg = ModelRegistry(filled)
    assert len(reg.checkpoints()) == 2
    write_tiny_checkpoint(filled.models_dir("checkpoint") / "gamma.safetensors", "sd1", seed=2)
    (filled.models_dir("checkpoint") / "alpha.safetensors").unlink()
    reg.refresh()
    assert [c.stem for c in reg.checkpoints()] == ["beta", "gamma"]


def test_shared_a1111_folder_and_demo_label(filled: Home, tmp_path: Path) -> None:
    shared = tmp_path / "sd-webui-aki"
    write_tiny_lora(shared / "models" / "Lora" / "shared-style.safetensors", seed=9)
    write_tiny_checkpoint(shared / "models" / "Stable-diffusion" / "shared.safetensors", "sd1", seed=4)
    ensure_demo_model(filled)
    reg = ModelRegistry(filled, [str(shared)])
    names = [c.name for c in reg.checkpoints()]
    assert "shared.safetensors" in names and "maple-demo-noise.safetensors" in names
    demo = reg.find_checkpoint("maple-demo-noise")
    assert demo.is_demo and "draws noise" in demo.label
    assert reg.find_lora("shared-style").location == str(shared)


def test_ckpt_checkpoints_are_listed_and_found(filled: Home) -> None:
    write_ckpt(filled.models_dir("checkpoint") / "old.ckpt", "sd1")
    reg = ModelRegistry(filled)
    info = reg.find_checkpoint("old")
    assert info.name == "old.ckpt" and info.title.startswith("old.ckpt [")
