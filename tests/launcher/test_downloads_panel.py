"""A download from a local HTTP server moves a progress bar to a verified file."""

from __future__ import annotations

import hashlib
import os
import time

import pytest
from PySide6.QtCore import Qt

from installer.downloads import DownloadSpec
from tests.installer.fault_server import Faults

pytestmark = pytest.mark.timeout(90)


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


def test_a_download_left_by_the_last_run_shows_paused_and_resumes(qtbot, make_window, home, server) -> None:
    from installer.downloads import DownloadManager

    data = os.urandom(2 * 1024 * 1024)
    url = server.add("/files/left.safetensors", data, Faults(rate=1_000_000))
    folder = home.models_dir("checkpoint")
    spec = DownloadSpec([("local", url)], folder, "left.safetensors", len(data), hashlib.sha256(data).hexdigest(), "checkpoint")
    last_run = DownloadManager(home=home, connections=1)  # the previous launcher, quit mid-download
    first = last_run.add(spec)
    deadline = time.monotonic() + 20
    while next(j for j in last_run.jobs() if j.id == first).progress.done < 300_000:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    last_run.shutdown()
    assert (home.cache_dir / "downloads.json").exists() and (folder / "left.safetensors.part").exists()

    window = make_window()
    qtbot.waitUntil(lambda: len(window.ctx.downloads.current()) == 1, timeout=15000)  # restored at start
    window.show_page("models")
    panel = window.pages["models"].downloads
    [row] = panel.rows.values()
    assert row.name.text() == "left.safetensors" and row.state == "paused"
    assert row.pause_button.text() == "Resume" and 0 < row.bar.value() < 1000  # the bytes already there
    assert "Paused" in row.info.text() and "/ 2.1 MB" in row.info.text() and not panel.empty.isVisible()  # 2 MiB: decimal MB
    server.resources["/files/left.safetensors"].faults.rate = None
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.state == "done", timeout=30000)
    assert "Done, verified" in row.info.text()
    assert (folder / "left.safetensors").read_bytes() == data and not (folder / "left.safetensors.part").exists()
    ranges = [h.get("Range", "") for h in server.requests_for("/files/left.safetensors")]
    assert ranges[-1].startswith("bytes=") and not ranges[-1].startswith("bytes=0-")  # it continued the .part


def test_downloads_go_on_while_the_pages_are_rebuilt(qtbot, make_window, home, server) -> None:
    data = os.urandom(1024 * 1024)
    url = server.add("/files/keep.safetensors", data, Faults(rate=1_000_000))
    spec = DownloadSpec([("local", url)], home.models_dir("lora"), "keep.safetensors",
                        len(data), hashlib.sha256(data).hexdigest(), "lora")
    window = make_window()
    window.show_page("models")
    job_id = window.pages["models"].bridge.add_spec(spec)
    window.rebuild()  # what a language or theme change does
    window.show_page("models")
    row = window.pages["models"].downloads.rows[job_id]
    qtbot.waitUntil(lambda: row.state == "done", timeout=30000)
    assert (home.models_dir("lora") / "keep.safetensors").read_bytes() == data
