"""The model store on real safetensors files: kinds, hashes, broken files, shared folders, removal."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest

import installer.store.model_store as store_mod
from installer.errors import UnsafePathError
from installer.home import Home
from installer.store.catalog import parse_catalog
from installer.store.model_store import ModelStore, State
from tests.installer.st_files import (
    LORA,
    SD1_CHECKPOINT,
    SDXL_CHECKPOINT,
    TAESD,
    VAE,
    point_trash_at,
    sha256,
    tensor_sha256,
    write_st,
)


def catalog_for(**files: Path):
    """A catalog whose entries are the given files (id -> file), with their real size and hash."""
    models = []
    for entry_id, path in files.items():
        models.append({
            "id": entry_id, "name": entry_id, "kind": "checkpoint", "arch": "sd1", "file": path.name,
            "size": path.stat().st_size, "sha256": sha256(path), "verified": True, "license": "mit",
            "description": {"en": "x", "zh": "x"}, "sources": [{"name": "huggingface", "url": "http://x/y"}],
        })
    return parse_catalog({"models": models})


def fill_home(home: Home) -> dict[str, Path]:
    return {
        "sd1": write_st(home.models_dir("checkpoint") / "sd1.safetensors", SD1_CHECKPOINT, seed=1),
        "sdxl": write_st(home.models_dir("checkpoint") / "XL" / "xl.safetensors", SDXL_CHECKPOINT, seed=2),
        "vae": write_st(home.models_dir("vae") / "vae.safetensors", VAE, seed=3),
        "lora": write_st(home.models_dir("lora") / "detail.safetensors", LORA, seed=4),
        "taesd": write_st(home.models_dir("taesd") / "tiny-taesd.safetensors", TAESD, seed=5),
    }


def by_name(entries):
    return {e.name: e for e in entries}


def test_scan_lists_kinds_and_architectures_from_headers(home: Home) -> None:
    fill_home(home)
    found = by_name(ModelStore(home).scan())
    assert {n: (e.kind, e.arch) for n, e in found.items()} == {
        "sd1.safetensors": ("checkpoint", "sd1"),
        "XL/xl.safetensors": ("checkpoint", "sdxl"),
        "vae.safetensors": ("vae", "unknown"),
        "detail.safetensors": ("lora", "sd1"),
        "tiny-taesd.safetensors": ("taesd", "unknown"),
    }
    assert all(e.state is State.UNHASHED and e.location == "home" for e in found.values())


def test_hashes_are_a1111s(home: Home) -> None:
    files = fill_home(home)
    store = ModelStore(home)
    store.scan()
    seen: list[tuple[int, int, str]] = []
    entries = by_name(store.hash_missing(progress=lambda d, t, n: seen.append((d, t, n))))
    ckpt, lora = entries["sd1.safetensors"], entries["detail.safetensors"]
    assert ckpt.sha256 == sha256(files["sd1"]) and ckpt.short_hash == ckpt.sha256[:10]
    assert ckpt.lora_hash is None
    assert lora.sha256 == sha256(files["lora"])
    assert lora.lora_hash == tensor_sha256(files["lora"])[:12] != lora.sha256[:12]
    total = sum(p.stat().st_size for p in files.values())
    assert seen[-1][:2] == (total, total)
    assert all(e.state is State.UNKNOWN for e in entries.values())


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "HTML page"),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:6ce0\nsize 4265146304\n", "git-LFS pointer"),
        (b"\xff" * 64, "header length"),
        (b"\x08\x00\x00\x00\x00\x00\x00\x00not json", "damaged header"),
    ],
)
def test_fake_files_are_listed_as_broken_with_the_reason(home: Home, content: bytes, reason: str) -> None:
    (home.models_dir("checkpoint") / "model.safetensors").write_bytes(content)
    store = ModelStore(home)
    [entry] = store.scan()
    assert entry.state is State.BROKEN and not entry.is_model
    assert reason in entry.reason and entry.kind == "checkpoint"
    [after] = store.hash_missing()
    assert after.state is State.BROKEN and after.sha256 is None


def test_a_truncated_download_is_broken_not_a_model(home: Home) -> None:
    full = write_st(home.models_dir("checkpoint") / "cut.safetensors", SD1_CHECKPOINT)
    full.write_bytes(full.read_bytes()[:-1000])
    [entry] = ModelStore(home).scan()
    assert entry.state is State.BROKEN and "truncated" in entry.reason


def test_pickle_files_take_their_kind_from_the_folder_and_are_checked(home: Home) -> None:
    good = home.models_dir("vae") / "anime.ckpt"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00." + b"\0" * 200)
    cut = home.models_dir("checkpoint") / "cut.ckpt"
    cut.write_bytes(good.read_bytes()[:-30])
    legacy = home.models_dir("checkpoint") / "old.ckpt"
    legacy.write_bytes(b"\x80\x02" + b"\0" * 500)
    (home.models_dir("vae") / "page.pt").write_bytes(b"<html><body>404</body></html>" * 4)
    found = by_name(ModelStore(home).scan())
    assert (found["anime.ckpt"].kind, found["anime.ckpt"].state) == ("vae", State.UNHASHED)
    assert (found["old.ckpt"].kind, found["old.ckpt"].state) == ("checkpoint", State.UNHASHED)
    assert found["cut.ckpt"].state is State.BROKEN and "truncated" in found["cut.ckpt"].reason
    assert found["page.pt"].state is State.BROKEN and "HTML" in found["page.pt"].reason


def test_catalog_states_verified_mismatch_unknown(home: Home, tmp_path: Path) -> None:
    real = write_st(tmp_path / "ref" / "v1-5.safetensors", SD1_CHECKPOINT, seed=7)
    same_size = write_st(tmp_path / "ref" / "anime.safetensors", SD1_CHECKPOINT, seed=8)
    catalog = catalog_for(sd15=real, anime=same_size)
    (home.models_dir("checkpoint") / "renamed.safetensors").write_bytes(real.read_bytes())
    write_st(home.models_dir("checkpoint") / "anime.safetensors", SD1_CHECKPOINT, seed=9)  # same size, other bytes
    write_st(home.models_dir("checkpoint") / "v1-5.safetensors", SDXL_CHECKPOINT, seed=7)  # other size
    write_st(home.models_dir("checkpoint") / "mine.safetensors", SD1_CHECKPOINT, seed=10)
    store = ModelStore(home, catalog=catalog)
    before = by_name(store.scan())
    assert before["v1-5.safetensors"].state is State.MISMATCH and "bytes" in before["v1-5.safetensors"].reason
    assert before["anime.safetensors"].state is State.UNHASHED
    after = by_name(store.hash_missing())
    assert (after["renamed.safetensors"].state, after["renamed.safetensors"].catalog_id) == (State.VERIFIED, "sd15")
    assert (after["anime.safetensors"].state, after["anime.safetensors"].catalog_id) == (State.MISMATCH, "anime")
    assert "sha256" in after["anime.safetensors"].reason
    assert (after["mine.safetensors"].state, after["mine.safetensors"].catalog_id) == (State.UNKNOWN, None)


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Path]:
    calls: list[Path] = []
    real = getattr(store_mod, name)

    def wrapper(path: Path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(store_mod, name, wrapper)
    return calls


def test_a_second_scan_reads_and_hashes_nothing(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    files = fill_home(home)
    first = ModelStore(home)
    first.scan()
    first.hash_missing()
    hashed, probed = counting(monkeypatch, "sha256_file_split"), counting(monkeypatch, "probe")
    again = ModelStore(home)  # a new process: only the cache on disk is shared
    entries = again.hash_missing()
    assert hashed == [] and probed == []
    assert all(e.sha256 for e in entries) and by_name(entries)["detail.safetensors"].lora_hash
    files["vae"].write_bytes(files["vae"].read_bytes()[:-2] + b"\1\1")
    os.utime(files["vae"], ns=(1, 1))
    ModelStore(home).hash_missing()
    assert hashed == [files["vae"]] and probed == [files["vae"]]


def test_cancel_keeps_what_was_hashed(home: Home) -> None:
    fill_home(home)
    store = ModelStore(home)
    store.scan()
    cancel = threading.Event()
    entries = store.hash_missing(progress=lambda d, t, n: cancel.set(), cancel=cancel)
    assert [e for e in entries if e.sha256] == []  # cancelled inside the first file
    names: list[str] = []
    second = threading.Event()

    def stop_at_second_file(done: int, total: int, name: str) -> None:
        names.append(name)
        if len(set(names)) == 2:
            second.set()

    store.hash_missing(progress=stop_at_second_file, cancel=second)
    hashed = [e.name for e in ModelStore(home).scan() if e.sha256]
    assert hashed == [names[0]]  # the finished file was saved to the cache, the cut one was not


def test_shared_folders_are_used_in_place(home: Home, tmp_path: Path) -> None:
    a1111 = tmp_path / "sd-webui-aki"
    ckpt = write_st(a1111 / "models" / "Stable-diffusion" / "anything.safetensors", SD1_CHECKPOINT, seed=11)
    lora = write_st(a1111 / "models" / "Lora" / "style" / "ink.safetensors", LORA, seed=12)
    loose = write_st(tmp_path / "downloads" / "vae.safetensors", VAE, seed=13)
    write_st(home.models_dir("checkpoint") / "mine.safetensors", SD1_CHECKPOINT, seed=14)
    store = ModelStore(home, [str(a1111), str(tmp_path / "downloads")])
    found = by_name(store.hash_missing())
    assert found["anything.safetensors"].path == ckpt and found["anything.safetensors"].location == str(a1111)
    assert found["style/ink.safetensors"].path == lora and found["style/ink.safetensors"].kind == "lora"
    assert found["vae.safetensors"].path == loose and found["vae.safetensors"].location == str(tmp_path / "downloads")
    assert found["mine.safetensors"].location == "home"
    assert found["anything.safetensors"].sha256 == sha256(ckpt)
    home_files = sorted(p.name for p in (home.root / "models").rglob("*") if p.is_file())
    assert home_files == ["mine.safetensors"]  # nothing copied or linked into the home


def test_the_same_folder_twice_is_listed_once(home: Home) -> None:
    fill_home(home)
    store = ModelStore(home, [str(home.root), str(home.models_dir("lora"))])
    assert len(store.scan()) == 5


@pytest.fixture
def trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return point_trash_at(tmp_path / "xdg", monkeypatch)


def test_remove_sends_to_the_trash(home: Home, trash: Path) -> None:
    files = fill_home(home)
    store = ModelStore(home)
    store.hash_missing()
    content = files["lora"].read_bytes()
    store.remove(files["lora"])
    assert not files["lora"].exists()
    assert (trash / "detail.safetensors").read_bytes() == content
    assert "detail.safetensors" not in by_name(store.entries)
    assert "detail.safetensors" not in by_name(ModelStore(home).scan())


def test_remove_refuses_anything_outside_the_model_folders(home: Home, tmp_path: Path, trash: Path) -> None:
    files = fill_home(home)
    outside = tmp_path / "precious.safetensors"
    outside.write_bytes(b"keep me")
    a1111 = tmp_path / "webui"
    shared = write_st(a1111 / "models" / "Lora" / "theirs.safetensors", LORA)
    store = ModelStore(home, [str(a1111)])
    store.scan()
    sneaky = home.models_dir("checkpoint") / ".." / ".." / ".." / "precious.safetensors"
    for path in (outside, sneaky, home.settings_file, home.models_dir("checkpoint"), shared):
        with pytest.raises(UnsafePathError):
            store.remove(path)
    assert outside.exists() and shared.exists() and files["sd1"].exists()
    assert not trash.exists()
    store.remove(shared, allow_shared=True)
    assert not shared.exists() and (trash / "theirs.safetensors").exists()


def test_verify_rehashes_from_the_bytes(home: Home, tmp_path: Path) -> None:
    real = write_st(tmp_path / "ref" / "model.safetensors", SD1_CHECKPOINT, seed=21)
    target = home.models_dir("checkpoint") / "model.safetensors"
    target.write_bytes(real.read_bytes())
    store = ModelStore(home, catalog=catalog_for(sd15=real))
    assert by_name(store.hash_missing())["model.safetensors"].state is State.VERIFIED
    st = target.stat()
    raw = bytearray(target.read_bytes())
    raw[-1] ^= 0xFF  # bit rot: same size, same mtime, so the cache cannot notice
    target.write_bytes(bytes(raw))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert by_name(ModelStore(home, catalog=store.catalog).scan())["model.safetensors"].state is State.VERIFIED
    entry = store.verify(target)
    assert entry.state is State.MISMATCH and entry.sha256 == hashlib.sha256(raw).hexdigest()
    with pytest.raises(UnsafePathError):
        store.verify(tmp_path / "ref" / "model.safetensors")


def diffusers_folder(path: Path, pipeline: str, cross: int = 768, text_encoder: object = ("transformers", "CLIPTextModel")) -> Path:
    (path / "unet").mkdir(parents=True)
    (path / "model_index.json").write_text(json.dumps({"_class_name": pipeline, "text_encoder": text_encoder}))
    (path / "unet" / "config.json").write_text(json.dumps({"in_channels": 4, "cross_attention_dim": cross}))
    (path / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"\0" * 1000)
    return path


def test_diffusers_folders_are_one_model_each(home: Home, trash: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpts = home.models_dir("checkpoint")
    sd2 = diffusers_folder(ckpts / "sd21-diffusers", "StableDiffusionPipeline", cross=1024)
    diffusers_folder(ckpts / "xl", "StableDiffusionXLPipeline")
    diffusers_folder(ckpts / "refiner", "StableDiffusionXLImg2ImgPipeline", text_encoder=[None, None])
    (ckpts / "half").mkdir()
    (ckpts / "half" / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    store = ModelStore(home)
    found = by_name(store.scan())
    assert {n: (e.kind, e.arch, e.state.value) for n, e in found.items()} == {
        "sd21-diffusers": ("checkpoint", "sd2", "unknown"),
        "xl": ("checkpoint", "sdxl", "unknown"),
        "refiner": ("checkpoint", "sdxl-refiner", "unknown"),
        "half": ("checkpoint", "unknown", "broken"),
    }
    assert "no unet" in found["half"].reason and found["sd21-diffusers"].size > 1000
    hashed = counting(monkeypatch, "sha256_file_split")
    store.hash_missing()
    assert hashed == []  # folders are not hashed (A1111 shows no hash for them either)
    store.remove(sd2)
    assert not sd2.exists() and (trash / "sd21-diffusers" / "model_index.json").exists()
    with pytest.raises(UnsafePathError):
        store.remove(sd2.parent / "xl" / "unet")


def test_records_from_an_older_header_reader_are_read_again_keeping_hashes(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from installer.store.hash_cache import HashCache

    model = write_st(home.models_dir("lora") / "detail.safetensors", LORA)
    ModelStore(home).hash_missing()
    cache = HashCache(home.cache_dir / "hashes.json")
    st = model.stat()
    old = cache.get(model, st.st_size, st.st_mtime_ns)
    assert old is not None and old.sha256
    cache.put(model, replace(old, kind="vae", arch="unknown", probe=0))  # what an older Maple wrote
    cache.save()
    hashed = counting(monkeypatch, "sha256_file_split")
    [entry] = ModelStore(home).hash_missing()
    assert (entry.kind, entry.arch, entry.sha256) == ("lora", "sd1", old.sha256) and hashed == []


def test_an_unplugged_shared_folder_keeps_its_hashes(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drive = tmp_path / "usb"
    write_st(drive / "models" / "Lora" / "ink.safetensors", LORA)
    ModelStore(home, [str(drive)]).hash_missing()
    drive.rename(tmp_path / "usb-away")
    assert ModelStore(home, [str(drive)]).scan() == []
    (tmp_path / "usb-away").rename(drive)
    hashed = counting(monkeypatch, "sha256_file_split")
    [entry] = ModelStore(home, [str(drive)]).hash_missing()
    assert entry.lora_hash and hashed == []


def test_only_loras_pay_for_the_second_hash(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    files = fill_home(home)
    splits: dict[str, int] = {}
    real = store_mod.sha256_file_split

    def spy(path: Path, split: int, *args, **kwargs):
        splits[path.name] = split
        return real(path, split, *args, **kwargs)

    monkeypatch.setattr(store_mod, "sha256_file_split", spy)
    ModelStore(home).hash_missing()
    assert splits["sd1.safetensors"] == files["sd1"].stat().st_size  # nothing after the end: one hash
    assert splits["detail.safetensors"] < files["lora"].stat().st_size
