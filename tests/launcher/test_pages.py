"""Every page as a user sees it: built offscreen on a real data home, driven through its widgets."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from installer.settings import load_settings
from tests.installer.st_files import LORA, SD1_CHECKPOINT, point_trash_at, write_st

pytestmark = pytest.mark.timeout(60)


def test_window_has_five_pages_and_the_menu_switches_them(qtbot, make_window) -> None:
    window = make_window(show=True)
    assert list(window.pages) == ["home"]  # the others are built when first opened
    for i, name in enumerate(("home", "models", "console", "settings", "troubleshoot")):
        window.nav.setCurrentRow(i)
        assert window.stack.currentWidget() is window.pages[name]
    assert [window.nav.item(i).text() for i in range(5)] == [
        "One-click start", "Models", "Console", "Settings", "Troubleshooting"]


def test_home_shows_the_machine_check_cards(qtbot, make_window) -> None:
    window = make_window(show=True)
    qtbot.waitUntil(lambda: window.ctx.report is not None, timeout=15000)
    home = window.pages["home"]
    titles = [w.text() for w in home.findChildren(type(home.check_label)) if w.objectName() == "cardTitle"]
    for title in ("PyTorch", "Free disk", "Port"):
        assert title in titles
    assert home.check_label.text() in (
        "This machine is ready.", "This machine can run Maple; see the warnings below.",
        "Something must be fixed first; see below and the Troubleshooting page.")
    assert home.start_button.text() == "Start"
    assert not home.open_page.isEnabled()


def test_console_batches_colours_searches_and_saves(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window()
    window.build_all()
    console = window.pages["console"]
    lines = [f"INFO line {i}" for i in range(20000)] + ["WARNING careful", "Traceback (most recent call last):"]
    window.ctx.engine.lines.emit(lines)
    console.flush()
    doc = console.view.document()
    assert doc.blockCount() <= 5000  # kept lines are capped
    assert console.view.toPlainText().endswith("Traceback (most recent call last):")
    last = doc.lastBlock()
    colour = last.begin().fragment().charFormat().foreground().color().name()
    assert colour == console.formats[_level("error")].foreground().color().name()
    console.search.setText("careful")
    assert console.find_next()
    assert console.view.textCursor().selectedText() == "careful"
    target = tmp_path / "console.txt"
    console.save(target)
    assert target.read_text(encoding="utf-8").splitlines()[-2:] == lines[-2:]
    console.copy_all()
    assert QApplication.clipboard().text().endswith("Traceback (most recent call last):")


def test_settings_are_validated_saved_and_kept(qtbot, make_window, home) -> None:
    window = make_window()
    window.build_all()
    page = window.pages["settings"]
    page.port.setValue(7999)
    page.combos["vram_mode"].setCurrentIndex(page.combos["vram_mode"].findData("low"))
    page.restart.setChecked(True)
    page.hf_token.setText("hf_secret")
    page.listen.setChecked(True)
    assert not page.save()  # listening needs a login
    assert "API login" in page.status.text()
    page.auth_user.setText("me")
    page.auth_pass.setText("pw")
    assert page.save()
    saved = load_settings(home.settings_file).settings
    assert (saved.port, saved.vram_mode, saved.restart_on_crash, saved.api_auth, saved.hf_token) == (
        7999, "low", True, "me:pw", "hf_secret")
    again = make_window(from_file=True)
    again.build_all()
    reopened = again.pages["settings"]
    assert reopened.port.value() == 7999
    assert reopened.combos["vram_mode"].currentData() == "low"
    assert reopened.auth_user.text() == "me" and reopened.restart.isChecked()


def test_settings_auto_shows_what_the_check_picks(qtbot, make_window) -> None:
    window = make_window(show=True)
    window.show_page("settings")
    qtbot.waitUntil(lambda: window.ctx.report is not None, timeout=15000)
    rec = window.ctx.report.recommendation
    assert window.pages["settings"].combos["device"].itemText(0) == f"Auto ({rec.device})"


def test_window_size_is_remembered(qtbot, make_window, home) -> None:
    window = make_window(show=True)
    window.resize(1234, 777)
    window.close()
    saved = load_settings(home.settings_file).settings
    assert saved.window.get("geometry")
    again = make_window(show=True, from_file=True)
    assert (again.width(), again.height()) == (1234, 777)


def test_troubleshoot_lists_console_errors_and_bundles_without_secrets(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(show=True, hf_token="hf_very_secret", api_auth="me:pw")
    window.show_page("troubleshoot")
    qtbot.waitUntil(lambda: window.ctx.report is not None, timeout=15000)
    window.ctx.engine.lines.emit(["ModuleNotFoundError: No module named 'xformers'"])
    page = window.pages["troubleshoot"]
    page.show_console_errors()
    texts = [w.text() for w in page.findChildren(type(page.status))]
    assert any("A Python package is missing (xformers)" in t for t in texts)
    (window.ctx.home.logs_dir / "engine.log").write_text("engine log line\n", encoding="utf-8")
    target = tmp_path / "bundle.zip"
    with qtbot.waitSignal(page.make_bundle(target).done, timeout=10000):
        pass
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        assert {"settings.json", "check.json", "console.log", "logs/engine.log"} <= names
        settings_text = zf.read("settings.json").decode()
        assert "hf_very_secret" not in settings_text and "pw" not in json.loads(settings_text)["api_auth"]
        assert json.loads(zf.read("check.json"))
        assert "xformers" in zf.read("console.log").decode()
    assert "bundle.zip" in page.status.text()


def test_troubleshoot_free_port_fix(qtbot, make_window, home, port) -> None:
    window = make_window()
    window.build_all()
    window.pages["troubleshoot"].apply_fix("choose-port")
    assert load_settings(home.settings_file).settings.port > port


def test_models_page_lists_installed_models_and_the_catalog(qtbot, make_window, home, monkeypatch) -> None:
    ckpt = write_st(home.models_dir("checkpoint") / "mine.safetensors", SD1_CHECKPOINT)
    write_st(home.models_dir("lora") / "style.safetensors", LORA)
    (home.models_dir("checkpoint") / "broken.safetensors").write_bytes(b"<html>not a model</html>")
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    qtbot.waitUntil(lambda: "model files found" in page.status.text(), timeout=15000)
    table = page.tables["checkpoint"]
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(6)] for r in range(table.rowCount())}
    assert rows["mine.safetensors"][1] == "SD1.x"  # the names maple-models list shows
    assert rows["mine.safetensors"][3] and rows["mine.safetensors"][4] == "not in the catalog"
    assert rows["broken.safetensors"][4].startswith("broken")
    assert page.tables["lora"].rowCount() == 1
    assert page.catalog_table.rowCount() > 0
    page.tabs.setCurrentWidget(page.catalog_table)
    page.catalog_table.selectRow(0)
    first = page.catalog.by_id(page.catalog_table.item(0, 0).data(Qt.ItemDataRole.UserRole))
    assert first.description.get("en") in page.details.text()
    page.tabs.setCurrentWidget(table)
    # copy the hash of the selected model
    row = [r for r in range(table.rowCount()) if table.item(r, 0).text() == "mine.safetensors"][0]
    table.selectRow(row)
    page.copy_hash()
    assert QApplication.clipboard().text() == __import__("hashlib").sha256(ckpt.read_bytes()).hexdigest()
    # remove asks first; "no" keeps the file
    monkeypatch.setattr(page, "confirm_remove", lambda entry: False)
    page.remove_selected()
    assert ckpt.exists()


def test_models_page_adds_a_shared_folder(qtbot, make_window, home, tmp_path: Path) -> None:
    other = tmp_path / "a1111"
    write_st(other / "models" / "Stable-diffusion" / "theirs.safetensors", SD1_CHECKPOINT, seed=3)
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    qtbot.waitUntil(lambda: "model files found" in page.status.text(), timeout=15000)
    page.status.clear()
    page.add_shared_folder(str(other))
    qtbot.waitUntil(lambda: "model files found" in page.status.text(), timeout=15000)
    table = page.tables["checkpoint"]
    names = {table.item(r, 0).text(): table.item(r, 5).text() for r in range(table.rowCount())}
    assert names == {"theirs.safetensors": str(other)}


def _level(name: str):
    from launcher.engine.console_lines import Level

    return Level(name)


def test_models_verify_and_remove_to_the_trash(qtbot, make_window, home, tmp_path: Path, monkeypatch) -> None:
    trash = point_trash_at(tmp_path / "xdg", monkeypatch)  # never the user's real trash
    ckpt = write_st(home.models_dir("checkpoint") / "mine.safetensors", SD1_CHECKPOINT)
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    qtbot.waitUntil(lambda: "model files found" in page.status.text(), timeout=15000)
    page.tables["checkpoint"].selectRow(0)
    page.verify_selected()
    qtbot.waitUntil(lambda: page.status.text() == "mine.safetensors: not in the catalog", timeout=15000)
    monkeypatch.setattr(page, "confirm_remove", lambda entry: True)
    page.remove_selected()
    qtbot.waitUntil(lambda: "moved to the trash" in page.status.text(), timeout=15000)
    assert not ckpt.exists()
    assert (trash / "mine.safetensors").exists()
    assert page.tables["checkpoint"].rowCount() == 0


def test_troubleshoot_verifies_all_models(qtbot, make_window, home) -> None:
    write_st(home.models_dir("checkpoint") / "good.safetensors", SD1_CHECKPOINT)
    (home.models_dir("checkpoint") / "truncated.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")
    window = make_window()
    window.show_page("troubleshoot")
    page = window.pages["troubleshoot"]
    page.verify_models()
    qtbot.waitUntil(lambda: "models checked" in page.status.text(), timeout=15000)
    assert page.status.text() == "2 models checked; 1 need attention (see the Models page)."
    assert page.progress.isHidden()


def test_dark_theme_links_and_badges_stay_readable(qtbot, make_window) -> None:
    from PySide6.QtGui import QPalette

    from launcher import theme

    make_window(theme="dark")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    colors = theme.apply(app, "dark")
    try:
        link = app.palette().color(QPalette.ColorRole.Link).name()
        assert link == colors.accent  # Qt's default dark blue is lost on the dark surface
        assert f"background: {colors.ok}; color: {colors.on_status}" in app.styleSheet()
        assert colors.on_status != "#ffffff"  # white on the dark theme's light green was unreadable
    finally:
        theme.apply(app, "light")
