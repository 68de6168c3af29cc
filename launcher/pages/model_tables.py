"""The model tables: installed files per kind and the catalog."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from launcher.i18n import tr
from launcher.pages.downloads_panel import human_size


def kind_titles() -> dict[str, str]:
    return {"checkpoint": tr("Checkpoints"), "vae": tr("VAE"), "lora": tr("LoRA"), "embedding": tr("Embeddings"),
            "upscaler": tr("Upscalers")}


def state_title(state: str) -> str:
    return {"verified": tr("verified"), "unknown": tr("unknown"), "mismatch": tr("mismatch"),
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




def _put(table: QTableWidget, row: int, values: list[str], key: str, tooltip: bool = False) -> None:
    for col, text in enumerate(values):
        item = QTableWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, key)
        if tooltip:
            item.setToolTip(text)
        table.setItem(row, col, item)


def fill_installed(table: QTableWidget, entries: list[Any]) -> None:
    """One row per file: name, architecture, size, short hash, state (with the reason when broken), where."""
    table.setRowCount(len(entries))
    for i, e in enumerate(entries):
        where = tr("data home") if e.location == "home" else e.location
        state = state_title(e.state.value) + (f" ({e.reason})" if e.reason and e.state.value == "broken" else "")
        _put(table, i, [e.name, e.arch or "", human_size(e.size), e.short_hash or "", state, where], str(e.path))


def fill_catalog(table: QTableWidget, entries: list[Any], lang: str) -> None:
    table.setRowCount(len(entries))
    titles = kind_titles()
    for i, e in enumerate(entries):
        values = [e.name, titles.get(e.kind, e.kind), human_size(e.size), e.license, e.description.get(lang)]
        _put(table, i, values, e.id, tooltip=True)
