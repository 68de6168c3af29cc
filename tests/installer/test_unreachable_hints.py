"""Offline, the hint says what this reader can do: the launcher's settings page, or the CLI's flag and
environment variable; the China mirror only when it was not just tried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.cli.models import main
from installer.downloads import download
from installer.downloads.errors import SourceUnreachableError
from installer.downloads.hints import unreachable_hint
from installer.downloads.spec import DownloadSpec
from installer.home import Home

HF = "http://huggingface.maple-test.invalid/m.safetensors"
MIRROR = "http://mirror.maple-test.invalid/m.safetensors"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _unreachable(sources: list[tuple[str, str]], folder: Path) -> SourceUnreachableError:
    with pytest.raises(SourceUnreachableError) as caught:
        download(DownloadSpec(sources, folder, "m.safetensors", None, None, "lora"))
    return caught.value


def test_the_mirror_just_tried_is_not_suggested_again(tmp_path: Path) -> None:
    err = _unreachable([("huggingface", HF), ("hf-mirror", MIRROR)], tmp_path)
    assert err.tried == ("huggingface", "hf-mirror")
    assert "China mirror" not in err.hint and "proxy in the settings" in err.hint


def test_the_mirror_is_suggested_when_only_hugging_face_was_tried(tmp_path: Path) -> None:
    err = _unreachable([("huggingface", HF)], tmp_path)
    assert "China mirror (hf-mirror) as the download source in the settings" in err.hint


def test_the_cli_names_its_flag_and_variable_not_the_settings_page() -> None:
    hint = unreachable_hint(("huggingface",), "maple-models pull sd15")
    assert "maple-models pull sd15 --source hf-mirror" in hint and "HTTPS_PROXY" in hint
    assert "in the settings" not in hint
    assert "China mirror" not in unreachable_hint(("huggingface", "hf-mirror"), "maple-models pull sd15")


def test_maple_models_pull_offline_after_the_mirror_says_nothing_of_it(home: Home, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    entry = {"id": "offline-lora", "name": "offline-lora", "kind": "lora", "arch": "sd1", "file": "offline.safetensors",
             "size": 4096, "sha256": "ab" * 32, "verified": True, "license": "mit",
             "description": {"en": "A test model", "zh": "测试模型"},
             "sources": [{"name": "huggingface", "url": HF}, {"name": "hf-mirror", "url": MIRROR}]}
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    monkeypatch.setenv("MAPLE_CATALOG", str(catalog))
    assert main(["--home", str(home.root), "pull", "offline-lora"]) == 1
    err = capsys.readouterr().err
    assert "No download source could be reached" in err
    assert "China mirror" not in err and "in the settings" not in err and "HTTPS_PROXY" in err
