"""The model tables: installed files per kind and the catalog."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from installer.display import arch_name, human_size, short_hash
from installer.store.problems import sentence
from launcher.i18n import tr


def kind_titles() -> dict[str, str]:
    return {"checkpoint": tr("Checkpoints"), "vae": tr("VAE"), "lora": tr("LoRA"), "embedding": tr("Embeddings"),
            "upscaler": tr("Upscalers"), "controlnet": tr("ControlNet")}


def state_title(state: str) -> str:
    return {"verified": tr("verified"), "unknown": tr("not in the catalog"), "mismatch": tr("mismatch"),
            "broken": tr("broken"), "unhashed": tr("not hashed yet")}.get(state, state)


def make_table(headers: list[str], stretch: int = 0) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    table.setAlternatingRowColors(True)
    return table




def _put(table: QTableWidget, row: int, values: list[str], key: str, tooltip: bool = False,
         tips: dict[int, str] | None = None) -> None:
    for col, text in enumerate(values):
        item = QTableWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, key)
        tip = (tips or {}).get(col) or (text if tooltip else "")
        if tip:
            item.setToolTip(tip)
        table.setItem(row, col, item)


def state_text(entry: Any, lang: str) -> str:
    """The state; for a file that cannot be used, its plain sentence (the same the CLI and the page say)."""
    if entry.problem is not None:
        return f"{state_title('broken')}: {sentence(entry.problem, lang)}"
    return state_title(entry.state.value)


def fill_installed(table: QTableWidget, entries: list[Any], lang: str = "en") -> None:
    """One row per file: name, architecture, size, short hash, state (a broken file's sentence, its
    detail as the tooltip), where. Figures are formatted as ``maple-models list`` does."""
    table.setRowCount(len(entries))
    for i, e in enumerate(entries):
        where = tr("data home") if e.location == "home" else e.location
        arch = "" if e.problem is not None else arch_name(e.arch)
        values = [e.name, arch, human_size(e.size), short_hash(e), state_text(e, lang), where]
        tips = {4: e.reason} if e.reason else {}
        tips[5] = where
        if arch == "?":
            tips[1] = tr("The file's header does not say which architecture it is.")
        _put(table, i, values, str(e.path), tips=tips)
    table.setWordWrap(True)
    table.resizeRowsToContents()


def fill_catalog(table: QTableWidget, entries: list[Any], lang: str) -> None:
    table.setRowCount(len(entries))
    titles = kind_titles()
    for i, e in enumerate(entries):
        values = [e.name, titles.get(e.kind, e.kind), human_size(e.size), e.license, e.description.get(lang)]
        _put(table, i, values, e.id, tooltip=True)
