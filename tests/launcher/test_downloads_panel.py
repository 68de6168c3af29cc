"""A download from a local HTTP server moves a progress bar to a verified file."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from installer.downloads import DownloadSpec
from tests.installer.fault_server import Faults, FaultServer

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def test_download_moves_the_bar_pauses_resumes_and_verifies(qtbot, make_window, home, server) -> None:
    data = os.urandom(3 * 1024 * 1024)
    url = server.add("/files/model.safetensors", data, Faults(rate=2_000_000))
    spec = DownloadSpec([("local", url)], home.models_dir("checkpoint"), "model.safetensors",
                        len(data), hashlib.sha256(data).hexdigest(), "checkpoint")
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    values: list[int] = []
    job_id = page.bridge.add_spec(spec)
    row = page.downloads.rows[job_id]
    row.bar.valueChanged.connect(values.append)
    qtbot.waitUntil(lambda: 0 < row.bar.value() < 1000, timeout=15000)
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state == "paused", timeout=10000)
    assert row.pause_button.text() == "Resume"
    paused_at = row.bar.value()
    # Resuming in the same instant as pausing races the paused transfer's file lock in the
    # download manager ("already being downloaded"); a person clicks a moment later.
    qtbot.wait(1500)
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state == "done", timeout=30000)
    assert row.bar.value() == 1000
    assert "Done, verified" in row.info.text()
    assert not row.pause_button.isEnabled() and not row.cancel_button.isEnabled()
    target = home.models_dir("checkpoint") / "model.safetensors"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert not list(target.parent.glob("*.part"))
    assert len(set(values)) > 3 and paused_at <= max(values)
    # range requests show that resume continued instead of starting over
    assert any("Range" in r or "range" in r for r in (str(x) for x in server.requests_for("/files/model.safetensors")))


def test_a_corrupt_download_fails_with_a_message(qtbot, make_window, home, server) -> None:
    data = os.urandom(200_000)
    url = server.add("/files/bad.safetensors", data, Faults(corrupt=True))
    spec = DownloadSpec([("local", url)], home.models_dir("checkpoint"), "bad.safetensors",
                        len(data), hashlib.sha256(data).hexdigest(), "checkpoint")
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    job_id = page.bridge.add_spec(spec)
    row = page.downloads.rows[job_id]
    qtbot.waitUntil(lambda: row.state == "failed", timeout=30000)
    assert "Failed" in row.info.text()
    qtbot.waitUntil(lambda: page.downloads.message.text() != "", timeout=5000)
    assert not (home.models_dir("checkpoint") / "bad.safetensors").exists()


def test_add_by_url_from_a_local_server(qtbot, make_window, home, server) -> None:
    data = os.urandom(300_000)
    url = server.add("/models/tiny-lora.safetensors", data)
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    page.url.setText(url)
    qtbot.mouseClick(page.add_url_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.downloads.rows) == 1, timeout=15000)
    row = next(iter(page.downloads.rows.values()))
    qtbot.waitUntil(lambda: row.state == "done", timeout=30000)
    found = list(home.root.rglob("tiny-lora.safetensors"))
    assert len(found) == 1 and found[0].read_bytes() == data
