"""settings.json: typed, versioned, written atomically, never silently lost."""

from __future__ import annotations

import json
import os
import threading

import pytest
from pydantic import ValidationError

from installer.settings import (
    SETTINGS_VERSION,
    Settings,
    load_settings,
    save_settings,
    write_atomic,
)


@pytest.fixture
def path(home):
    return home.settings_file


def backups(path, tag="broken"):
    return sorted(path.parent.glob(f"{path.name}.{tag}-*"))


def test_missing_file_gives_defaults_and_creates_nothing(path):
    result = load_settings(path)
    assert result.settings == Settings() and result.problems == [] and result.backup is None
    assert result.settings.port == 7860 and result.settings.language == "system"
    assert not path.exists()


def test_saved_settings_read_back_with_chinese_intact(path):
    settings = Settings(language="zh", port=7861, model="动漫.safetensors", shared_folders=["D:/sd-webui"])
    save_settings(path, settings)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == SETTINGS_VERSION and "动漫" in path.read_text(encoding="utf-8")
    assert load_settings(path).settings == settings


def test_old_version_is_migrated_and_the_old_file_kept(path):
    old = b'{"lang": "zh", "port": 7870}'
    path.write_bytes(old)
    result = load_settings(path)
    assert (result.settings.language, result.settings.port, result.settings.version) == ("zh", 7870, 1)
    assert result.problems == []
    assert result.backup is not None and result.backup.read_bytes() == old
    assert result.backup.name.startswith("settings.json.v0-")
    save_settings(path, result.settings)
    assert result.backup.read_bytes() == old
    assert load_settings(path).backup is None  # now current: no more copies


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"port": 7860,', "not valid JSON (line 1"),
        (b'["not", "an", "object"]', "does not hold a JSON object"),
        (b'{"version": 1, "port": "seventy"}', "port"),
        (b'{"version": 1, "language": "fr"}', "language"),
        (b'{"version": 1, "api_auth": "no-colon"}', "api_auth"),
        (b'{"version": "one"}', "version that is not a number"),
        (b'{"version": 99, "port": 7860}', "newer Maple (version 99"),
        (b"\xff\xfe\x00garbage", "codec"),
    ],
)
def test_unreadable_file_is_reported_kept_and_not_lost(path, content, words):
    path.write_bytes(content)
    result = load_settings(path)
    assert result.settings == Settings()
    assert len(result.problems) == 1 and words in result.problems[0]
    assert result.backup is not None and result.backup.read_bytes() == content
    assert str(result.backup) in result.problems[0]
    assert path.read_bytes() == content  # loading never changes the file
    save_settings(path, result.settings)  # the next save replaces it; the copy stays
    assert result.backup.read_bytes() == content


def test_loading_the_same_broken_file_twice_keeps_one_copy(path):
    path.write_text("{broken", encoding="utf-8")
    first = load_settings(path).backup
    second = load_settings(path).backup
    assert first == second and backups(path) == [first]
    path.write_text("{broken differently", encoding="utf-8")
    third = load_settings(path).backup
    assert third != first and len(backups(path)) == 2 and first.read_text() == "{broken"


def test_unknown_keys_from_a_newer_maple_survive_a_save(path):
    path.write_text(json.dumps({"version": 1, "port": 7870, "future_option": {"a": 1}}), encoding="utf-8")
    settings = load_settings(path).settings
    settings.port = 7871
    save_settings(path, settings)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["future_option"] == {"a": 1} and data["port"] == 7871


def test_assignment_is_validated():
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 70000
    with pytest.raises(ValidationError):
        settings.vram_mode = "huge"  # type: ignore[assignment]


def test_public_dict_hides_secrets():
    data = Settings(hf_token="hf_secret", api_auth="me:pw").public_dict()
    assert data["hf_token"] == "***" and data["api_auth"] == "***" and data["civitai_token"] == ""


def test_atomic_write_leaves_no_temporary_files(path):
    save_settings(path, Settings(port=7000))
    save_settings(path, Settings(port=7001))
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith((".settings", "settings"))) == [
        "settings.json"]


def test_a_failed_write_keeps_the_old_file_whole(path, monkeypatch):
    save_settings(path, Settings(port=7000))
    before = path.read_bytes()

    def disk_error(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_error)
    with pytest.raises(OSError):
        save_settings(path, Settings(port=7001))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_readers_never_see_half_a_file(path):
    big = [f"D:/models/folder-{i:04d}" for i in range(3000)]
    save_settings(path, Settings(shared_folders=big[:1]))
    seen: list[str] = []
    done = threading.Event()

    def reader():
        while not done.is_set():
            seen.append(path.read_text(encoding="utf-8"))

    thread = threading.Thread(target=reader)
    thread.start()
    for n in range(1, 40):
        save_settings(path, Settings(shared_folders=big[: n * 75]))
    done.set()
    thread.join()
    assert len(seen) > 10
    for text in seen:
        json.loads(text)  # raises on a torn file


def test_write_atomic_creates_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "settings.json"
    write_atomic(target, "{}\n")
    assert target.read_text() == "{}\n"
