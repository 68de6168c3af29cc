"""Chinese and English through Qt's translation system; every visible string translated."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QCoreApplication, QLocale
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QLineEdit, QTabWidget

from launcher import i18n

pytestmark = pytest.mark.timeout(60)
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_language_follows_the_system_unless_chosen() -> None:
    assert i18n.resolve_language("system", QLocale(QLocale.Language.Chinese, QLocale.Country.China)) == "zh"
    assert i18n.resolve_language("system", QLocale(QLocale.Language.German, QLocale.Country.Germany)) == "en"
    assert i18n.resolve_language("en", QLocale(QLocale.Language.Chinese, QLocale.Country.China)) == "en"
    assert i18n.resolve_language("zh", QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)) == "zh"


def test_qt_translate_answers_from_the_json_table(qapp) -> None:
    i18n.install("zh")
    assert QCoreApplication.translate("Maple", "Console") == "控制台"
    assert QCoreApplication.translate("AnyContext", "One-click start") == "一键启动"
    assert QCoreApplication.translate("Maple", "no such string") == "no such string"
    i18n.install("en")
    assert QCoreApplication.translate("Maple", "Console") == "Console"


def test_chinese_window_shows_chinese_text_everywhere(qtbot, make_window) -> None:
    window = make_window(lang="zh", show=True)
    window.build_all()
    qtbot.waitUntil(lambda: window.ctx.report is not None, timeout=15000)
    assert [window.nav.item(i).text() for i in range(5)] == ["一键启动", "模型管理", "控制台", "高级选项", "疑难解答"]
    assert window.pages["home"].start_button.text() == "一键启动"
    translator = i18n.current()
    assert translator is not None and translator.missing == set(), translator.missing
    untranslated = []
    for page in window.pages.values():
        for widget in _texts(page):
            text = widget
            if text and re.search(r"[A-Za-z]{4,}", text) and not CJK.search(text):
                untranslated.append(text)
    allowed = {"Hugging Face", "ModelScope", "Civitai", "English", "PyTorch", "Python", "LoRA", "ControlNet"}
    left = [t for t in untranslated if not any(a in t for a in allowed) and not _data(t)]
    assert left == []


def test_switching_language_in_settings_rebuilds_the_window(qtbot, make_window) -> None:
    window = make_window(show=True)
    window.show_page("settings")
    page = window.pages["settings"]
    page.combos["language"].setCurrentIndex(page.combos["language"].findData("zh"))
    assert page.save()
    assert window.nav.item(2).text() == "控制台"
    assert window.pages["settings"].title.text() == "高级选项"  # the page shown was rebuilt
    window.show_page("console")
    assert window.pages["console"].title.text() == "控制台"
    assert window.ctx.lang == "zh"


def _texts(page) -> list[str]:
    out = []
    for cls in (QLabel, QAbstractButton, QGroupBox):
        for widget in page.findChildren(cls):
            out.append(widget.title() if isinstance(widget, QGroupBox) else widget.text())
    for edit in page.findChildren(QLineEdit):
        out.append(edit.placeholderText())
    for tabs in page.findChildren(QTabWidget):
        out += [tabs.tabText(i) for i in range(tabs.count())]
    return out


def _data(text: str) -> bool:
    """Machine data, not interface text: paths, URLs, model names, versions, log lines."""
    return text.startswith(("/", "http", "<a ")) or "/" in text or ".safetensors" in text or "http" in text
