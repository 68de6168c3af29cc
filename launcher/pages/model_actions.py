"""What the models page does to the installed file chosen in its tables: verify, remove (to the
trash, after a confirmation), open its folder, copy its hash. Mixed into the models page.
"""

from __future__ import annotations

from typing import Any, cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QMessageBox, QTableWidget, QTabWidget, QWidget

from launcher import workers
from launcher.context import AppContext
from launcher.i18n import tr
from launcher.pages.model_tables import kind_titles, state_title


class InstalledActions:
    # what the models page provides
    ctx: AppContext
    store: Any
    entries: list[Any]
    tabs: QTabWidget
    catalog_table: QTableWidget
    status: QLabel

    def show_entries(self, entries: list[Any]) -> None:
        raise NotImplementedError

    def _failed(self, exc: Exception) -> None:
        raise NotImplementedError

    def selected(self) -> Any:
        table = self.tabs.currentWidget()
        if not isinstance(table, QTableWidget) or table is self.catalog_table:
            return None
        items = table.selectedItems()
        if not items:
            return None
        path = items[0].data(Qt.ItemDataRole.UserRole)
        return next((e for e in self.entries if str(e.path) == path), None)

    def verify_selected(self) -> None:
        entry, store = self.selected(), self.store
        if entry is None or store is None:
            return
        self.status.setText(tr("Verifying {name}...").replace("{name}", entry.name))
        workers.submit(lambda _p, c: store.verify(entry.path, None, c), on_done=self._verified, on_error=self._failed)

    def _verified(self, entry: Any) -> None:
        self.show_entries(self.store.entries)
        self.status.setText(tr("{name}: {state}").replace("{name}", entry.name).replace("{state}", state_title(entry.state.value)))

    def remove_selected(self) -> None:
        entry, store = self.selected(), self.store
        if entry is None or store is None or not self.confirm_remove(entry):
            return
        workers.submit(lambda _p, _c: store.remove(entry.path), on_done=lambda _r: self._removed(entry), on_error=self._failed)

    def confirm_remove(self, entry: Any) -> bool:
        answer = QMessageBox.question(cast(QWidget, self), tr("Remove model"), tr("Move {name} to the trash?").replace("{name}", entry.name))
        return answer == QMessageBox.StandardButton.Yes

    def _removed(self, entry: Any) -> None:
        self.show_entries(self.store.entries)
        self.status.setText(tr("{name} was moved to the trash.").replace("{name}", entry.name))

    def open_selected_folder(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.ctx.open_folder(entry.path.parent)
        else:
            kinds = list(kind_titles())  # the tabs' order; the catalog tab opens the checkpoints' folder
            index = self.tabs.currentIndex()
            kind = kinds[index] if 0 <= index < len(kinds) else "checkpoint"
            self.ctx.open_folder(self.ctx.home.models_dir(kind))

    def copy_hash(self) -> None:
        entry = self.selected()
        if entry is not None and entry.sha256:
            QGuiApplication.clipboard().setText(entry.sha256)
            self.status.setText(tr("Hash copied."))
