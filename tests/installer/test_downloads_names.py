"""Names from outside (catalog, URL, header) are sanitised; sources are ordered by the settings."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from installer.downloads import (
    DownloadSpec,
    order_sources,
    safe_target,
    sanitize_filename,
    spec_from_catalog,
)
from installer.errors import UnsafePathError
from installer.settings import Settings


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("model.safetensors", "model.safetensors"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\evil.dll", "evil.dll"),
        ("C:\\Users\\x\\m.ckpt", "m.ckpt"),
        ('a<b>:c"d|e?f*g.safetensors', "a_b__c_d_e_f_g.safetensors"),
        ("CON.safetensors", "_CON.safetensors"),
        ("lpt1", "_lpt1"),
        ("com9.tar.gz", "_com9.tar.gz"),
        ("  .hidden.safetensors. . ", "hidden.safetensors"),
        ("tab\tnew\nline\x00.pt", "tab_new_line_.pt"),
        ("模型 v2.safetensors", "模型 v2.safetensors"),
    ],
)
def test_sanitize_filename(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


@pytest.mark.parametrize("raw", ["", "..", ".", "/", "a/..", "  ", "///", "__"])
def test_names_with_nothing_usable_are_refused(raw: str) -> None:
    with pytest.raises(UnsafePathError):
        sanitize_filename(raw)


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = sanitize_filename("x" * 500 + ".safetensors")
    assert name.endswith(".safetensors") and len(name) <= 150
    wide = sanitize_filename("模" * 200 + ".safetensors")
    assert wide.endswith(".safetensors") and len(wide.encode()) <= 240


def test_safe_target_stays_inside_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    assert safe_target(folder, "../../x.safetensors") == folder / "x.safetensors"
    outside = tmp_path / "outside.safetensors"
    outside.write_bytes(b"x")
    try:
        os.symlink(outside, folder / "link.safetensors")
    except OSError:
        pytest.skip("this system does not let us make symlinks")
    with pytest.raises(UnsafePathError, match="outside"):
        safe_target(folder, "link.safetensors")


PAIRS = [("huggingface", "https://huggingface.co/a/b/resolve/main/m.safetensors"), ("civitai", "https://civitai.com/api/download/models/1"), ("modelscope", "https://modelscope.cn/x")]


@pytest.mark.parametrize(
    ("choice", "first"),
    [("huggingface", "huggingface"), ("hf-mirror", "hf-mirror"), ("modelscope", "modelscope"), ("civitai", "civitai")],
)
def test_preferred_source_goes_first(choice: str, first: str) -> None:
    ordered = order_sources(PAIRS, Settings(download_source=choice))
    assert ordered[0][0] == first
    assert {n for n, _ in ordered} >= {n for n, _ in PAIRS}


def test_mirror_url_is_derived_from_hugging_face() -> None:
    ordered = order_sources(PAIRS, Settings(download_source="hf-mirror"))
    assert ordered[0] == ("hf-mirror", "https://hf-mirror.com/a/b/resolve/main/m.safetensors")


def test_auto_follows_the_catalog_outside_china_and_the_mirror_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("TZ", "Europe/Paris")
    assert [n for n, _ in order_sources(PAIRS, Settings(language="en"))][:3] == ["huggingface", "civitai", "modelscope"]
    assert order_sources(PAIRS, Settings(language="zh"))[0][0] == "hf-mirror"


def test_spec_from_a_catalog_entry(home) -> None:  # type: ignore[no-untyped-def]
    entry = SimpleNamespace(id="tiny", kind="lora", file="../tiny<lcm>.safetensors", size=10, sha256="AB" * 32, arch="sd1",
                            sources=[{"name": "huggingface", "url": "https://huggingface.co/a/b/resolve/main/t.safetensors"}])
    spec = spec_from_catalog(entry, home, Settings(download_source="huggingface"))
    assert isinstance(spec, DownloadSpec)
    assert spec.dest_dir == home.root / "models/Lora" and spec.filename == "tiny_lcm_.safetensors"
    assert spec.sha256 == "ab" * 32 and spec.sources[0][0] == "huggingface"
    taesd = spec_from_catalog(SimpleNamespace(id="t", kind="taesd", file="taesd_decoder.safetensors", size=None, sha256=None,
                                              sources={"huggingface": "https://huggingface.co/m/t/resolve/main/x"}), home, None)
    assert taesd.dest_dir == home.root / "models/VAE-approx"


def test_every_built_in_catalog_entry_gives_a_spec(home) -> None:  # type: ignore[no-untyped-def]
    from installer.store.catalog import load_catalog

    for entry in load_catalog():
        spec = spec_from_catalog(entry, home, Settings())
        assert spec.target.parent.is_relative_to(home.root / "models")
        assert spec.filename == entry.file and spec.sources


def test_every_catalog_controlnet_lands_in_the_controlnet_folder(home) -> None:  # type: ignore[no-untyped-def]
    from installer.home import kind_dirs
    from installer.store.catalog import load_catalog

    controlnets = load_catalog().of_kind("controlnet")
    assert len(controlnets) >= 9
    for entry in controlnets:
        spec = spec_from_catalog(entry, home, Settings())
        assert spec.dest_dir == home.root / "models" / "ControlNet", entry.id
        assert (spec.kind, spec.base_model) == ("controlnet", entry.arch)
        # the folder the model store scans for ControlNets (what /controlnet/model_list lists)
        assert spec.dest_dir == home.root / kind_dirs("controlnet")[0]
