"""The data home: where it is (--home, MAPLE_HOME, portable, platform default) and its A1111 layout."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from installer import home as home_mod
from installer.errors import HomeError
from installer.home import LAYOUT, PORTABLE_MARKER, Home, model_folders, resolve_home


@pytest.fixture
def frozen_program(tmp_path, monkeypatch):
    """Run as a bundled executable living in ``tmp_path/Maple``, as the portable build does."""
    program = tmp_path / "Maple"
    program.mkdir()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(program / "Maple.exe"))
    return program


def test_explicit_home_wins_over_everything(tmp_path, frozen_program):
    (frozen_program / PORTABLE_MARKER).touch()
    found = resolve_home(tmp_path / "chosen", env={"MAPLE_HOME": str(tmp_path / "env")})
    assert found.root == tmp_path / "chosen"


def test_relative_and_user_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_home("rel/home", env={}).root == tmp_path / "rel" / "home"
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert resolve_home("~/maple", env={}).root == tmp_path / "user" / "maple"


def test_maple_home_variable_wins_over_portable(tmp_path, frozen_program):
    (frozen_program / PORTABLE_MARKER).touch()
    assert resolve_home(env={"MAPLE_HOME": str(tmp_path / "env")}).root == tmp_path / "env"
    assert resolve_home(env={"MAPLE_HOME": ""}).root == frozen_program / "data"


def test_portable_marker_puts_the_home_beside_the_program(frozen_program):
    (frozen_program / PORTABLE_MARKER).touch()
    assert resolve_home(env={}).root == frozen_program / "data"


def test_without_marker_the_platform_user_data_folder_is_used(tmp_path, frozen_program, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    found = resolve_home(env={})
    if sys.platform.startswith("linux"):
        assert found.root == tmp_path / "xdg" / "Maple"
    assert found.root == home_mod.default_root()
    assert not found.root.exists()  # resolving creates nothing


def test_running_from_the_checkout_uses_the_checkout_for_portable_mode():
    assert home_mod.program_dir() == Path(home_mod.__file__).resolve().parent.parent


def test_layout_is_created_on_first_use_and_kept_after(tmp_path):
    home = Home(tmp_path / "fresh")
    assert not home.root.exists()
    assert home.ensure() is home
    for rel in LAYOUT:
        assert (home.root / rel).is_dir(), rel
    model = home.models_dir("checkpoint") / "kept.safetensors"
    model.write_bytes(b"x")
    home.ensure()
    assert model.read_bytes() == b"x"
    assert home.models_dir("lora") == home.root / "models" / "Lora"
    assert home.settings_file == home.root / "settings.json"


def test_a_home_that_cannot_be_created_is_a_home_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(HomeError) as info:
        Home(blocker / "home").ensure()
    assert info.value.code == "home" and "--home" in info.value.hint


def test_an_existing_a1111_folder_is_used_in_place(tmp_path, home):
    a1111 = tmp_path / "stable-diffusion-webui"
    (a1111 / "models" / "Stable-diffusion").mkdir(parents=True)
    loose = tmp_path / "my-loras"
    loose.mkdir()
    assert model_folders(home, [str(a1111)], "checkpoint") == [
        home.models_dir("checkpoint"), a1111 / "models" / "Stable-diffusion"]
    assert model_folders(home, [str(loose)], "lora") == [home.models_dir("lora"), loose]


def test_the_home_itself_listed_as_shared_is_not_listed_twice(home):
    assert model_folders(home, [str(home.root), str(home.root)], "vae") == [home.models_dir("vae")]
