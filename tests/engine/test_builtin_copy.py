"""The built-in model's copy into the home: made once, kept while it is the same, replaced when a newer
Maple ships other weights of the same size, never left half-written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.models import builtin
from installer.home import Home


@pytest.fixture()
def shipped_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "assets"
    folder.mkdir()
    (folder / builtin.BUILTIN_FILENAME).write_bytes(b"A" * 4096)
    (folder / builtin.BUILTIN_LORA).write_bytes(b"L" * 512)
    monkeypatch.setattr(builtin, "ASSETS", folder)
    return folder


def test_an_empty_home_gets_the_model_and_its_lora(shipped_dir: Path, tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    path = builtin.ensure_builtin_model(home)
    assert path == home.models_dir("checkpoint") / builtin.BUILTIN_FILENAME
    assert path.read_bytes() == b"A" * 4096
    assert (home.models_dir("lora") / builtin.BUILTIN_LORA).read_bytes() == b"L" * 512
    assert not list(home.models_dir("checkpoint").glob("*.tmp"))


def test_an_unchanged_copy_is_kept_without_reading_it(shipped_dir: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    home = Home(tmp_path / "home").ensure()
    builtin.ensure_builtin_model(home)
    read: list[Path] = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or original(self))
    caplog.set_level("INFO")
    builtin.ensure_builtin_model(home)
    assert read == [] and "Copied" not in caplog.text


def test_weights_of_a_newer_maple_replace_the_older_copy(shipped_dir: Path, tmp_path: Path) -> None:
    home = Home(tmp_path / "home").ensure()
    path = builtin.ensure_builtin_model(home)
    assert path is not None
    (shipped_dir / builtin.BUILTIN_FILENAME).write_bytes(b"B" * 4096)  # same size, other bytes, other time
    os.utime(shipped_dir / builtin.BUILTIN_FILENAME, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    builtin.ensure_builtin_model(home)
    assert path.read_bytes() == b"B" * 4096


def test_a_copy_touched_since_but_the_same_is_kept(shipped_dir: Path, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    home = Home(tmp_path / "home").ensure()
    path = builtin.ensure_builtin_model(home)
    assert path is not None
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    caplog.set_level("INFO")
    builtin.ensure_builtin_model(home)
    assert "Copied" not in caplog.text and path.read_bytes() == b"A" * 4096


def test_no_shipped_file_means_no_built_in_model(shipped_dir: Path, tmp_path: Path) -> None:
    (shipped_dir / builtin.BUILTIN_FILENAME).unlink()
    assert builtin.ensure_builtin_model(Home(tmp_path / "home").ensure()) is None
