"""The home page on a bundle without the engine: "Install the engine", its size, progress, cancel, resume."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from installer.engine_install import location
from tests.installer.fault_server import Faults, FaultServer
from tests.installer.wheel_index import LocalIndex, fake_package, fake_torch, fake_torchvision

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FaultServer, LocalIndex, Path]]:
    """A bundle's engine-packages folder (empty) and a local index with this machine's CPU build."""
    root = tmp_path / "Maple 秋叶" / "engine-packages"
    monkeypatch.setenv(location.ENV_VAR, str(root))
    monkeypatch.setattr("launcher.pages.engine_panel.ENGINE_REQUIREMENTS", ("diffusers==0.42.1",))
    with FaultServer() as server:
        index = LocalIndex(server)
        index.add(fake_torch(tmp_path / "w", "cpu", cuda=False, padding=2 * 1024 * 1024), Faults(rate=1.2e6))
        index.add(fake_torchvision(tmp_path / "w", "cpu"))
        index.add(fake_package(tmp_path / "w", "diffusers", "0.42.1"))
        yield server, index, root


def _home(make_window, qtbot, index: LocalIndex, lang: str = "en"):
    window = make_window(lang=lang, show=True, package_index=index.url, torch_index=index.url)
    home = window.pages["home"]
    qtbot.waitUntil(lambda: "to download" in home.engine_panel.size_label.text() or "下载" in home.engine_panel.size_label.text(),
                    timeout=30000)
    return window, home


def test_install_button_says_what_and_how_big_then_installs(qtbot, make_window, bundle) -> None:
    server, index, root = bundle
    server.resources[next(p for p in server.resources if "torch-2.13.0" in p)].faults.rate = None
    window, home = _home(make_window, qtbot, index)
    panel = home.engine_panel
    assert home.start_button.text() == "Install the engine"
    assert "CPU build" in panel.what.text() and panel.slow.isVisible()  # this machine has no NVIDIA GPU
    assert "MB to download" in panel.size_label.text() and "PyTorch 2.13.0+cpu" in panel.size_label.text()
    home.start_button.click()
    assert home.start_button.text() == "Installing the engine..." and not home.start_button.isEnabled()
    qtbot.waitUntil(lambda: panel.isHidden(), timeout=60000)
    assert home.start_button.text() == "Start" and home.start_button.isEnabled()
    assert location.read_manifest(location.Layout(root))["torch"] == "2.13.0+cpu"


def test_cancel_keeps_the_download_and_install_again_resumes(qtbot, make_window, bundle) -> None:
    server, index, root = bundle
    window, home = _home(make_window, qtbot, index)
    panel = home.engine_panel
    home.start_button.click()
    qtbot.waitUntil(lambda: "left" in panel.status.text() and "Downloading" in panel.status.text(), timeout=30000)
    assert "/s" in panel.status.text()  # bytes, speed and time left
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("Cancelled"), timeout=30000)
    assert home.start_button.text() == "Install the engine" and home.start_button.isEnabled()
    assert list((root / "downloads").glob("torch-*.part"))
    server.resources[next(p for p in server.resources if "torch-2.13.0" in p)].faults.rate = None
    home.start_button.click()
    qtbot.waitUntil(lambda: panel.isHidden(), timeout=60000)
    ranges = [h["Range"] for _m, path, h in server.log if "torch-2.13.0" in path and "Range" in h]
    assert ranges and not ranges[-1].startswith("bytes=0-")


def test_the_install_button_in_chinese(qtbot, make_window, bundle) -> None:
    _server, index, _root = bundle
    window, home = _home(make_window, qtbot, index, lang="zh")
    assert home.start_button.text() == "安装生成引擎"
    assert "CPU" in home.engine_panel.what.text() and "很慢" in home.engine_panel.what.text()


def test_the_mirrors_are_settings(qtbot, make_window, home) -> None:
    from installer.settings import load_settings

    window = make_window()
    window.build_all()
    page = window.pages["settings"]
    page.package_index.setText("https://mirror.example/simple")
    page.torch_index.setText("https://mirror.example/pytorch/{variant}")
    assert page.save()
    saved = load_settings(home.settings_file).settings
    assert (saved.package_index, saved.torch_index) == ("https://mirror.example/simple", "https://mirror.example/pytorch/{variant}")
