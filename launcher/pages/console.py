"""控制台: the engine's live output, coloured by level, searchable, copyable, savable.

Lines arrive in bursts (thousands a second while the engine logs fast); they wait in a bounded
queue and go into the view every ``FLUSH_MS`` as a few runs of same-coloured text, and the view
keeps at most ``MAX_LINES`` lines (trimmed from the top in one cut, which costs a fraction of
QPlainTextEdit's own block limit), so the window stays responsive whatever the engine prints.
"""

from __future__ import annotations

import collections
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextOption,
)
from PySide6.QtWidgets import QCheckBox, QFileDialog, QLineEdit, QPlainTextEdit, QWidget

from launcher import theme
from launcher.context import CONSOLE_KEEP, AppContext
from launcher.engine import console_lines
from launcher.engine.console_lines import Level
from launcher.i18n import tr
from launcher.pages.common import Page, button, named, row

MAX_LINES = CONSOLE_KEEP
FLUSH_MS = 40  # small batches: each costs a few ms even at 10,000 lines a second


class ConsolePage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(tr("Console"), tr("The engine's output as it runs."), parent)
        self.ctx = ctx
        self.pending: collections.deque[str] = collections.deque(maxlen=MAX_LINES)
        self.view = named(QPlainTextEdit(), "console", read_only=True)
        self.view.setUndoRedoEnabled(False)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # a long line is read whole, no sideways scroll
        self.view.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # long paths too
        self.search = QLineEdit(placeholderText=tr("Search the console"))
        self.search.returnPressed.connect(self.find_next)
        self.autoscroll = QCheckBox(tr("Auto-scroll"))
        self.autoscroll.setChecked(True)
        self.body.addLayout(row(
            self.search,
            button(tr("Find"), "search", self.find_next),
            self.autoscroll,
            button(tr("Copy all"), "copy", self.copy_all),
            button(tr("Save..."), "save", self.save_dialog),
            button(tr("Clear"), "trash", self.view.clear),
            stretch=False,
        ))
        self.body.addWidget(self.view, 1)
        self.formats = _formats()
        self.timer = QTimer(self, interval=FLUSH_MS)
        self.timer.timeout.connect(self.flush)
        self.timer.start()
        ctx.engine.lines.connect(self.pending.extend)
        self.pending.extend(ctx.console)

    def flush(self) -> None:
        """Move the waiting lines into the view in one edit."""
        if not self.pending:
            return
        lines = list(self.pending)
        self.pending.clear()
        doc = self.view.document()
        cursor = QTextCursor(doc)
        cursor.setPosition(doc.characterCount() - 1)  # the end, without walking the layout
        cursor.beginEditBlock()
        first = doc.isEmpty()
        for level, text in _runs(lines):
            cursor.insertText(text if first else "\n" + text, self.formats[level])
            first = False
        cursor.endEditBlock()
        self._trim()
        if self.autoscroll.isChecked():
            bar = self.view.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _trim(self) -> None:
        doc = self.view.document()
        extra = doc.blockCount() - MAX_LINES
        if extra > 0:
            cut = QTextCursor(doc)
            cut.setPosition(doc.findBlockByNumber(extra).position(), QTextCursor.MoveMode.KeepAnchor)
            cut.removeSelectedText()

    def text(self) -> str:
        self.flush()
        return self.view.toPlainText()

    def find_next(self) -> bool:
        needle = self.search.text()
        if not needle:
            return False
        self.autoscroll.setChecked(False)
        if self.view.find(needle):
            return True
        self.view.moveCursor(QTextCursor.MoveOperation.Start)  # wrap around
        return self.view.find(needle, QTextDocument.FindFlag(0))

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("Save the console"), str(self.ctx.home.logs_dir / "console.txt"), "Text (*.txt *.log)")
        if path:
            self.save(Path(path))

    def save(self, path: Path) -> None:
        path.write_text(self.text() + "\n", encoding="utf-8")


def _runs(lines: list[str]) -> list[tuple[Level, str]]:
    """Consecutive lines of the same level joined: one insert per run instead of per line."""
    runs: list[tuple[Level, list[str]]] = []
    for line in lines:
        level = console_lines.level_of(line)
        if runs and runs[-1][0] is level:
            runs[-1][1].append(line)
        else:
            runs.append((level, [line]))
    return [(level, "\n".join(group)) for level, group in runs]


def _formats() -> dict[Level, QTextCharFormat]:
    colors = theme.current()
    out = {}
    for level, color in ((Level.INFO, colors.console_text), (Level.WARNING, colors.warning),
                         (Level.ERROR, colors.error), (Level.SUCCESS, colors.ok)):
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(color))
        out[level] = fmt
    return out
