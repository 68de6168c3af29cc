"""模型管理: installed models per kind, the catalog, downloads, add by URL, shared folders."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QLineEdit,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from launcher import workers
from launcher.context import AppContext
from launcher.i18n import tr
from launcher.pages.common import Page, button, muted, row
from launcher.pages.downloads_panel import DownloadsPanel
from launcher.pages.model_actions import InstalledActions
from launcher.pages.model_tables import (
    fill_catalog,
    fill_installed,
    kind_titles,
    make_table,
)


class ModelsPage(InstalledActions, Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(tr("Models"), tr("Your models, the catalog, and downloads that resume and verify."), parent)
        self.ctx = ctx
        self.store: Any = None
        self.entries: list[Any] = []
        self.catalog: Any = None
        self.bridge = ctx.downloads  # the window's: downloads go on while this page is rebuilt
        self.tabs = QTabWidget()
        self.tables: dict[str, QTableWidget] = {}
        headers = [tr("Name"), tr("Architecture"), tr("Size"), tr("Hash"), tr("State"), tr("Where")]
        for kind, title in kind_titles().items():
            self.tables[kind] = make_table(headers, stretch=4)  # the state: a broken file's sentence wraps there
            where = self.tables[kind].horizontalHeader()
            where.setSectionResizeMode(5, where.ResizeMode.Interactive)  # a long shared folder: its tooltip has it all
            self.tables[kind].setColumnWidth(5, 240)
            self.tabs.addTab(self.tables[kind], title)
        self.catalog_table = make_table([tr("Name"), tr("Kind"), tr("Size"), tr("Licence"), tr("Description")], stretch=4)
        self.tabs.addTab(self.catalog_table, tr("Catalog"))
        self.tabs.currentChanged.connect(lambda _i: self._update_buttons())
        self.status = muted()
        self._build_toolbar()
        self.body.addWidget(self.tabs, 3)
        self.details = muted()  # the whole description of the catalog entry chosen
        self.details.hide()
        self.body.addWidget(self.details)
        self.catalog_table.itemSelectionChanged.connect(self._show_details)
        self.body.addWidget(self.status)
        self.url = QLineEdit(placeholderText=tr("Paste a model URL (Hugging Face, Civitai or a direct link)"))
        self.add_url_button = button(tr("Add by URL"), "download", self.add_url)
        self.body.addLayout(row(self.url, self.add_url_button,
                                button(tr("Add a shared folder..."), "folder", self.add_shared), stretch=False))
        self.downloads = DownloadsPanel(self.bridge)
        self.body.addWidget(self.downloads, 1)
        self.bridge.updated.connect(self._download_update)
        ctx.settings_changed.connect(self._settings_changed)
        self.refresh()

    def _build_toolbar(self) -> None:
        self.verify_button = button(tr("Verify"), "ok", self.verify_selected)
        self.remove_button = button(tr("Remove"), "trash", self.remove_selected)
        self.folder_button = button(tr("Open folder"), "folder", self.open_selected_folder)
        self.copy_button = button(tr("Copy hash"), "copy", self.copy_hash)
        self.download_button = button(tr("Download"), "download", self.download_selected)
        self.body.addLayout(row(button(tr("Refresh"), "refresh", self.refresh), self.verify_button,
                                self.remove_button, self.folder_button, self.copy_button, self.download_button))
        self._update_buttons()

    def _show_details(self) -> None:
        items = self.catalog_table.selectedItems()
        entry = self.catalog.by_id(items[0].data(Qt.ItemDataRole.UserRole)) if items and self.catalog else None
        if entry is not None:
            self.details.setText(f"<b>{entry.name}</b> — {entry.description.get(self.ctx.lang)}")
        self.details.setVisible(entry is not None and self.tabs.currentWidget() is self.catalog_table)

    def _update_buttons(self) -> None:
        on_catalog = self.tabs.currentWidget() is self.catalog_table
        if hasattr(self, "details"):
            self.details.setVisible(on_catalog and bool(self.catalog_table.selectedItems()))
        for widget in (self.verify_button, self.remove_button, self.folder_button, self.copy_button):
            widget.setVisible(not on_catalog)
        self.download_button.setVisible(on_catalog)

    # -- scanning ---------------------------------------------------------------------------
    def refresh(self) -> None:
        home, shared = self.ctx.home, list(self.ctx.settings.shared_folders)

        def work(progress: Any, cancel: threading.Event) -> tuple[Any, list[Any]]:
            from installer.store.model_store import ModelStore

            store = ModelStore(home, shared)
            entries = store.scan()
            progress(("scanned", store, entries))
            return store, store.hash_missing(lambda d, t, n: progress(("hashing", d, t, n)), cancel)

        self.status.setText(tr("Looking for models..."))
        workers.submit(work, on_progress=self._scan_progress, on_done=self._scanned, on_error=self._failed, name="scan")

    def _scan_progress(self, value: tuple[Any, ...]) -> None:
        if value[0] == "scanned":
            self.store = value[1]
            self.show_entries(value[2])
        elif value[0] == "hashing":
            _, done, total, name = value
            self.status.setText(tr("Hashing {name}: {pct}%").replace("{name}", name).replace("{pct}", str(int(100 * done / total) if total else 0)))

    def _scanned(self, result: tuple[Any, list[Any]]) -> None:
        self.store, entries = result
        self.show_entries(entries)
        self.catalog = self.store.catalog
        self.show_catalog()
        self.status.setText(tr("{n} model files found.").replace("{n}", str(len(entries))))

    def _failed(self, exc: Exception) -> None:
        self.status.setText(tr("Failed: {error}").replace("{error}", str(getattr(exc, "message", exc))))

    def show_entries(self, entries: list[Any]) -> None:
        self.entries = list(entries)
        for kind, table in self.tables.items():  # a file of no known kind is shown with the checkpoints
            mine = [e for e in self.entries if e.kind == kind or (kind == "checkpoint" and e.kind not in self.tables)]
            fill_installed(table, mine, self.ctx.lang)

    def show_catalog(self) -> None:
        fill_catalog(self.catalog_table, list(self.catalog or []), self.ctx.lang)

    # -- downloads --------------------------------------------------------------------------
    def download_selected(self) -> None:
        items = self.catalog_table.selectedItems()
        if not items or self.catalog is None:
            return
        entry = self.catalog.by_id(items[0].data(Qt.ItemDataRole.UserRole))
        if entry is not None:
            self._guard(lambda: self.bridge.add_catalog(entry))

    def add_url(self) -> None:
        url = self.url.text().strip()
        if not url:
            return
        home, settings = self.ctx.home, self.ctx.settings

        def work(_p: Any, _c: threading.Event) -> Any:
            from installer.downloads import resolve_url

            return resolve_url(url, home, settings)

        self.status.setText(tr("Looking at {url}...").replace("{url}", url))
        workers.submit(work, on_done=lambda spec: self._guard(lambda: self.bridge.add_spec(spec)), on_error=self._failed)

    def _guard(self, action: Any) -> None:
        try:
            action()
            self.status.setText(tr("Download added."))
        except Exception as exc:  # the GUI edge: show every error
            self._failed(exc)

    def _download_update(self, _job_id: str, progress: Any) -> None:
        if getattr(progress, "state", "") == "done":
            self.refresh()

    def add_shared(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Choose an AUTOMATIC1111 or 秋叶 folder"))
        if folder:
            self.add_shared_folder(folder)

    def add_shared_folder(self, folder: str) -> None:
        shared = [*self.ctx.settings.shared_folders, folder]
        self.ctx.save(self.ctx.settings.model_copy(update={"shared_folders": shared}))

    def _settings_changed(self, _settings: Any) -> None:
        self.refresh()
