"""The look: Fusion with a light or dark palette, one stylesheet, tinted SVG icons, high DPI."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

ICON_DIR = Path(__file__).resolve().parent.parent / "assets" / "icons"


class Colors(NamedTuple):
    name: str
    window: str
    surface: str
    sidebar: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    ok: str
    warning: str
    error: str
    console_bg: str
    console_text: str
    on_status: str  # text on the ok / warning / error backgrounds (the state badge, the Stop button)


LIGHT = Colors("light", "#f6f7f9", "#ffffff", "#eef0f3", "#1f2328", "#5d6670", "#dde1e6",
               "#d9480f", "#ffffff", "#2b8a3e", "#b7791f", "#c92a2a", "#fbfbfc", "#1f2328", "#ffffff")
DARK = Colors("dark", "#17191c", "#202327", "#1b1d21", "#e6e8eb", "#9aa3ad", "#32363c",
              "#f76707", "#ffffff", "#51cf66", "#fcc419", "#ff6b6b", "#121416", "#dfe3e8", "#111315")


# High DPI: Qt 6 scales by the screen's factor and rounds it "pass-through" (crisp at 125 % and
# 150 %) by default; the icons below carry 1x and 2x pixmaps. Nothing to set.

_system_dark: bool | None = None


def system_is_dark() -> bool:
    """The platform's own palette is dark (read once, before Maple sets its palette).

    Reading the palette's lightness avoids touching the ``Qt`` namespace, whose first use costs
    tens of milliseconds before the window can show.
    """
    global _system_dark
    if _system_dark is None:
        window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
        _system_dark = window.lightness() < 128
    return _system_dark


def resolve(choice: str) -> Colors:
    if choice == "dark":
        return DARK
    if choice == "light":
        return LIGHT
    return DARK if system_is_dark() else LIGHT


_current = LIGHT


def current() -> Colors:
    return _current


def apply(app: QApplication, choice: str) -> Colors:
    global _current
    colors = resolve(choice)
    _current = colors
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(_palette(colors))
    app.setStyleSheet(stylesheet(colors))
    icon.cache_clear()
    return colors


def _palette(c: Colors) -> QPalette:
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.Base: c.surface,
        QPalette.ColorRole.AlternateBase: c.sidebar,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Button: c.surface,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.Highlight: c.accent,
        QPalette.ColorRole.HighlightedText: c.accent_text,
        QPalette.ColorRole.ToolTipBase: c.surface,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.PlaceholderText: c.muted,
        QPalette.ColorRole.Link: c.accent,  # Qt's default blue is unreadable on the dark surface
        QPalette.ColorRole.LinkVisited: c.accent,
    }
    for role, value in roles.items():
        pal.setColor(role, QColor(value))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(c.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(c.muted))
    return pal


def stylesheet(c: Colors) -> str:
    return f"""
QWidget {{ font-size: 10pt; }}
QMainWindow, QStackedWidget > QWidget {{ background: {c.window}; }}
QWidget#side {{ background: {c.sidebar}; }}
QListWidget#nav {{ background: {c.sidebar}; border: none; padding: 4px 6px; outline: 0; }}
QListWidget#nav::item {{ padding: 9px 10px; margin: 2px 0; border-radius: 8px; color: {c.text}; }}
QListWidget#nav::item:selected {{ background: {c.surface}; color: {c.accent}; font-weight: 600; }}
QListWidget#nav::item:hover:!selected {{ background: {c.border}; }}
QLabel#pageTitle {{ font-size: 17pt; font-weight: 600; }}
QLabel#muted, QLabel[muted="true"] {{ color: {c.muted}; }}
QLabel#brand {{ font-size: 13pt; font-weight: 700; color: {c.accent}; padding: 6px 8px 10px 8px; }}
QFrame#card {{ background: {c.surface}; border: 1px solid {c.border}; border-radius: 10px; }}
QFrame#card[verdict="warning"] {{ border-left: 4px solid {c.warning}; }}
QFrame#card[verdict="blocker"] {{ border-left: 4px solid {c.error}; }}
QFrame#card[verdict="ok"] {{ border-left: 4px solid {c.ok}; }}
QLabel#cardTitle {{ font-weight: 600; }}
QPushButton {{ padding: 6px 14px; border: 1px solid {c.border}; border-radius: 7px;
    background: {c.surface}; color: {c.text}; }}
QPushButton:hover {{ border-color: {c.accent}; }}
QPushButton:disabled {{ color: {c.muted}; }}
QPushButton#primary {{ background: {c.accent}; color: {c.accent_text}; border: none;
    font-size: 14pt; font-weight: 600; padding: 14px 34px; border-radius: 12px; }}
QPushButton#primary[running="true"] {{ background: {c.error}; color: {c.on_status}; }}
QPushButton#primary:disabled {{ background: {c.muted}; }}
QLabel#url {{ font-size: 11pt; font-weight: 600; padding-left: 4px; }}
QLabel#state {{ font-weight: 600; padding: 4px 12px; border-radius: 11px; background: {c.border}; }}
QLabel#state[state="running"], QLabel#state[state="external"] {{ background: {c.ok}; color: {c.on_status}; }}
QLabel#state[state="starting"], QLabel#state[state="stopping"] {{ background: {c.warning}; color: {c.on_status}; }}
QLabel#state[state="crashed"] {{ background: {c.error}; color: {c.on_status}; }}
QPlainTextEdit#console {{ background: {c.console_bg}; color: {c.console_text};
    font-family: "DejaVu Sans Mono", "Consolas", "Menlo", monospace; font-size: 9pt;
    border: 1px solid {c.border}; border-radius: 8px; }}
QLineEdit, QComboBox, QSpinBox {{ padding: 5px 8px; border: 1px solid {c.border};
    border-radius: 6px; background: {c.surface}; color: {c.text}; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus {{ border-color: {c.accent}; }}
QComboBox::drop-down {{ border: none; width: 26px; }}
QComboBox::down-arrow {{ image: url({_icon_url("chevron-down")}); width: 12px; height: 12px; }}
QComboBox QAbstractItemView {{ background: {c.surface}; color: {c.text}; border: 1px solid {c.border};
    selection-background-color: {c.accent}; selection-color: {c.accent_text}; }}
QSpinBox {{ padding-right: 22px; }}
QSpinBox::up-button, QSpinBox::down-button {{ border: none; width: 20px; background: transparent; }}
QSpinBox::up-arrow {{ image: url({_icon_url("chevron-up")}); width: 10px; height: 10px; }}
QSpinBox::down-arrow {{ image: url({_icon_url("chevron-down")}); width: 10px; height: 10px; }}
QTableWidget, QTreeWidget {{ background: {c.surface}; border: 1px solid {c.border};
    border-radius: 8px; gridline-color: {c.border}; }}
QHeaderView::section {{ background: {c.sidebar}; color: {c.muted}; border: none;
    border-bottom: 1px solid {c.border}; padding: 5px 8px; font-weight: 600; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ padding: 7px 16px; margin-right: 4px; border-radius: 7px; color: {c.muted}; }}
QTabBar::tab:selected {{ background: {c.surface}; color: {c.accent}; font-weight: 600; }}
QProgressBar {{ border: 1px solid {c.border}; border-radius: 5px; background: {c.sidebar};
    text-align: center; height: 14px; }}
QProgressBar::chunk {{ background: {c.accent}; border-radius: 4px; }}
QGroupBox {{ border: 1px solid {c.border}; border-radius: 10px; margin-top: 14px;
    background: {c.surface}; padding: 10px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; font-weight: 600; }}
QScrollArea {{ border: none; background: transparent; }}
"""


def _icon_url(name: str) -> str:
    return (ICON_DIR / f"{name}.svg").as_posix()


@lru_cache(maxsize=256)
def icon(name: str, color: str = "") -> QIcon:
    """An icon from assets/icons tinted with ``color`` (the text colour by default), sharp at 1x-4x."""
    path = ICON_DIR / f"{name}.svg"
    if not path.exists():
        return QIcon()
    svg = path.read_text(encoding="utf-8").replace("#COLOR#", color or _current.text)
    result = QIcon()
    for size in (24, 48):
        sized = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
        pix = QPixmap()
        if pix.loadFromData(QByteArray(sized.encode("utf-8")), "SVG"):
            result.addPixmap(pix)
    return result
