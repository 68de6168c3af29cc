"""Small building blocks the pages share."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from launcher import theme

W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str, read_only: bool = False) -> W:
    """``widget`` with its object name set (the stylesheet styles by name)."""
    widget.setObjectName(name)
    if read_only:
        widget.setProperty("readOnly", True)
    return widget


class Page(QWidget):
    """A page: a title, a one-line explanation, then its content in ``body``."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(28, 22, 28, 22)
        outer.setSpacing(12)
        self.title = named(QLabel(title), "pageTitle")
        self.subtitle = muted(subtitle)
        outer.addWidget(self.title)
        outer.addWidget(self.subtitle)
        self.body = QVBoxLayout()
        self.body.setSpacing(12)
        outer.addLayout(self.body, 1)


def muted(text: str = "") -> QLabel:
    label = named(QLabel(text), "muted")
    label.setWordWrap(True)
    return label


def card(verdict: str = "") -> tuple[QFrame, QVBoxLayout]:
    frame = named(QFrame(), "card")
    if verdict:
        frame.setProperty("verdict", verdict)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(14, 12, 14, 12)
    layout.setSpacing(4)
    return frame, layout


def button(text: str, icon: str = "", slot: object = None, name: str = "") -> QPushButton:
    btn = QPushButton(text)
    if icon:
        btn.setIcon(theme.icon(icon))
    if name:
        btn.setObjectName(name)
    if slot is not None:
        btn.clicked.connect(slot)
    btn.setCursor(Qt.CursorShape.PointingHandCursor)
    return btn


def row(*widgets: QWidget | None, stretch: bool = True) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setSpacing(8)
    for widget in widgets:
        if widget is not None:
            layout.addWidget(widget)
    if stretch:
        layout.addStretch(1)
    return layout


def clear(layout: QLayout) -> None:
    """Remove and delete everything in ``layout``."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        if widget is not None:
            widget.deleteLater()
        else:
            inner = item.layout()
            if inner is not None:
                clear(inner)


def restyle(widget: QWidget) -> None:
    """Re-apply the stylesheet after a dynamic property changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
