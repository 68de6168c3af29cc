"""The built-in catalog: the models a new user is offered, with honest figures and every source."""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import urlsplit

import pytest

from installer.store.catalog import (
    CATALOG_FILE,
    SOURCE_NAMES,
    CatalogError,
    load_catalog,
    parse_catalog,
)

REQUIRED = {"sd15", "anything-v5", "sdxl-base", "vae-ft-mse", "kl-f8-anime2", "sdxl-vae", "sdxl-vae-fp16-fix",
            "lcm-lora-sd15", "lcm-lora-sdxl", "add-detail", "taesd",
            "realesrgan-x4plus", "realesrgan-x4plus-anime-6b", "4x-ultrasharp", "swinir-4x"}
# Figures confirmed by several public sources (FACTS: model-catalog-facts.json, confirmed=true).
CONFIRMED = {
    "sd15": (4265146304, "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa"),
    "sdxl-base": (6938078334, "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6120b893f7e5b"),
    "vae-ft-mse": (334641190, "735e4c3a447a3255760d7f86845f09f937809baa529c17370d83e4c3758f3c75"),
    "sdxl-vae-fp16-fix": (334641162, "235745af8d86bf4a4c1b5b4f529868b37019a10f7c0b2e79ad0abca3a22bc6e1"),
    "lcm-lora-sd15": (134621556, "8f90d840e075ff588a58e22c6586e2ae9a6f7922996ee6649a7f01072333afe4"),
    "taesd": (9793292, "db169d69145ec4ff064e49d99c95fa05d3eb04ee453de35824a6d0f325513549"),
}
NOT_CONFIRMED = {"anything-v5", "anything-v5-ink", "add-detail", "taesd-decoder"}
UPSCALERS = {"realesrgan-x4plus": "RealESRGAN_x4plus.pth", "realesrgan-x4plus-anime-6b": "RealESRGAN_x4plus_anime_6B.pth",
             "4x-ultrasharp": "4x-UltraSharp.pth", "swinir-4x": "SwinIR_4x.pth"}
# The ControlNet 1.1 SD1.5 files under the names the extension's model list and infotexts use.
CONTROLNETS_SD15 = {"canny": "control_v11p_sd15_canny.pth", "lineart": "control_v11p_sd15_lineart.pth",
                    "lineart-anime": "control_v11p_sd15s2_lineart_anime.pth", "openpose": "control_v11p_sd15_openpose.pth",
                    "depth": "control_v11f1p_sd15_depth.pth", "softedge": "control_v11p_sd15_softedge.pth",
                    "scribble": "control_v11p_sd15_scribble.pth", "inpaint": "control_v11p_sd15_inpaint.pth",
                    "tile": "control_v11f1e_sd15_tile.pth"}


def test_the_built_in_catalog_has_the_models_users_expect() -> None:
    catalog = load_catalog()
    assert {e.id for e in catalog} >= REQUIRED
    assert {e.kind for e in catalog} == {"checkpoint", "vae", "lora", "taesd", "upscaler", "controlnet"}
    for entry_id, (size, sha) in CONFIRMED.items():
        entry = catalog.get(entry_id)
        assert (entry.size, entry.sha256, entry.verified) == (size, sha, True)


def test_only_confirmed_figures_are_marked_verified() -> None:
    catalog = load_catalog()
    for entry_id in NOT_CONFIRMED:
        assert catalog.get(entry_id).verified is False
    assert catalog.get("anything-v5").size is None  # seen in one source only: taken at download time
    decoder = catalog.get("taesd-decoder")
    assert decoder.size is None and decoder.sha256 is None and "download time" in decoder.note
    assert all(e.size and e.sha256 for e in catalog if e.verified)


def test_upscalers_have_their_usual_file_names_and_no_unconfirmed_figures() -> None:
    catalog = load_catalog()
    for entry_id, file_name in UPSCALERS.items():
        entry = catalog.get(entry_id)
        assert (entry.kind, entry.file) == ("upscaler", file_name)
        # model-catalog-facts.json confirms no upscaler's size or sha256: both are taken at download time
        assert (entry.size, entry.sha256, entry.verified) == (None, None, False)
        assert len(entry.sources) >= 2, entry_id  # the original and a mirror
    assert catalog.get("realesrgan-x4plus").url("github").startswith("https://github.com/xinntao/Real-ESRGAN/")
    assert "licyks/sd-upscaler-models" in (catalog.get("realesrgan-x4plus-anime-6b").url("modelscope") or "")


def test_controlnets_have_the_v11_names_a_mirror_and_no_unconfirmed_figures() -> None:
    catalog = load_catalog()
    for task, file_name in CONTROLNETS_SD15.items():
        entry = catalog.get(f"controlnet-sd15-{task}")
        assert (entry.kind, entry.arch, entry.file) == ("controlnet", "sd1", file_name)
        assert entry.url("huggingface") == f"https://huggingface.co/lllyasviel/ControlNet-v1-1/resolve/main/{file_name}"
        assert file_name in (entry.url("modelscope") or ""), task  # a mirror reachable from China
    sdxl = catalog.of_kind("controlnet")
    assert len([e for e in sdxl if e.arch == "sdxl"]) >= 2
    for entry in sdxl:
        # model-catalog-facts.json confirms no ControlNet's size or sha256: both are taken at download time
        assert (entry.size, entry.sha256, entry.verified) == (None, None, False), entry.id
        assert len(entry.sources) >= 2 and "download" in entry.note, entry.id
        assert entry.arch in ("sd1", "sdxl")


def test_every_entry_is_described_in_english_and_chinese() -> None:
    for entry in load_catalog():
        assert entry.description.en and entry.description.get("en") == entry.description.en
        assert re.search(r"[\u4e00-\u9fff]", entry.description.get("zh-CN")), entry.id
        assert entry.license


def test_sources_are_named_and_the_china_mirror_mirrors_hugging_face() -> None:
    for entry in load_catalog():
        assert entry.sources and all(s.name in SOURCE_NAMES and s.url.startswith("https://") for s in entry.sources)
        hf, mirror = entry.url("huggingface"), entry.url("hf-mirror")
        if hf:
            assert mirror and urlsplit(mirror).path == urlsplit(hf).path
    assert load_catalog().get("anything-v5").url("civitai")
    assert load_catalog().get("anything-v5-ink").url("modelscope")


def test_lookups_by_id_sha256_and_file() -> None:
    catalog = load_catalog()
    sd15 = catalog.get("sd15")
    assert catalog.by_sha256(sd15.sha256.upper()) is sd15
    assert catalog.by_sha256("0" * 64) is None
    assert catalog.by_file("V1-5-PRUNED-EMAONLY.safetensors") is sd15
    assert sd15.short_hash == "6ce0161689"
    assert [s.name for s in sd15.ordered_sources("hf-mirror")] == ["hf-mirror", "huggingface"]
    with pytest.raises(CatalogError) as err:
        catalog.get("sd-1.5")
    assert err.value.hint and "catalog" in err.value.hint


def test_local_file_names_are_unique_per_kind() -> None:
    seen = [(e.kind, e.file.lower()) for e in load_catalog()]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"sha256": None}, "verified entries need both"),
        ({"sha256": "XYZ"}, "64 lower-case hex"),
        ({"kind": "embedding"}, "unknown kind"),
        ({"file": "../evil.safetensors"}, "plain file name"),
        ({"size": -1}, "positive integer"),
        ({"sources": [{"name": "somewhere", "url": "https://x"}]}, "sources must be named"),
        ({"description": {"en": "only english"}}, "malformed field"),
    ],
)
def test_a_damaged_catalog_is_refused(change: dict, problem: str) -> None:
    data = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    bad = copy.deepcopy(data)
    bad["models"][0].update(change)
    with pytest.raises(CatalogError, match=problem):
        parse_catalog(bad)


def test_duplicate_ids_are_refused() -> None:
    data = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    data["models"].append(copy.deepcopy(data["models"][0]))
    with pytest.raises(CatalogError, match="duplicated sd15"):
        parse_catalog(data)
