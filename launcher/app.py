"""The launcher window: a left menu and the five pages, and the application around it.

The window is built in two steps (see :mod:`launcher.startup`): the shell first, then ``attach``
with the context once settings are validated. Pages other than home are built when first opened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from launcher import i18n, theme
from launcher.i18n import tr

if TYPE_CHECKING:
    from installer.settings import Settings
    from launcher.context import AppContext
    from launcher.engine.process import EngineState

log = logging.getLogger(__name__)

PAGES = ("home", "models", "console", "settings", "troubleshoot")


def page_titles() -> dict[str, str]:
    return {"home": tr("One-click start"), "models": tr("Models"), "console": tr("Console"),
            "settings": tr("Settings"), "troubleshoot": tr("Troubleshooting")}


def _factory(name: str) -> Callable[[AppContext], QWidget]:
    if name == "home":
        from launcher.pages.home import HomePage
        return HomePage
    if name == "models":
        from launcher.pages.models import ModelsPage
        return ModelsPage
    if name == "console":
        from launcher.pages.console import ConsolePage
        return ConsolePage
    if name == "settings":
        from launcher.pages.settings import SettingsPage
        return SettingsPage
    from launcher.pages.troubleshoot import TroubleshootPage
    return TroubleshootPage


class MainWindow(QMainWindow):
    def __init__(self, window_state: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.ctx: AppContext | None = None
        self.pages: dict[str, QWidget] = {}
        self.window_state = dict(window_state or {})
        self.setWindowTitle("Maple")
        self.setWindowIcon(theme.icon("maple", "#d9480f"))
        self.setMinimumSize(900, 600)
        self._restore_geometry()
        self._build()

    def _build(self) -> None:
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        side = QWidget()
        side.setObjectName("side")
        side.setAutoFillBackground(True)  # the sidebar colour behind the brand too (no Qt enum needed)
        side.setFixedWidth(200)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 8, 0, 0)
        side_layout.setSpacing(0)
        brand = QLabel("Maple")
        brand.setObjectName("brand")
        side_layout.addWidget(brand)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        side_layout.addWidget(self.nav, 1)
        self.stack = QStackedWidget()
        layout.addWidget(side)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        titles = page_titles()
        for name in PAGES:
            self.nav.addItem(QListWidgetItem(theme.icon(name), titles[name]))
        self.nav.setCurrentRow(0)
        self.nav.currentRowChanged.connect(self._nav_changed)

    def attach(self, ctx: AppContext) -> None:
        """Second step: the context exists; build the home page and start the machine check."""
        self.ctx = ctx
        ctx.show_page.connect(self.show_page)
        ctx.settings_changed.connect(self._settings_changed)
        ctx.engine.ready.connect(self._engine_ready)
        ctx.engine.state_changed.connect(self._mark_console)
        self._nav_changed(self.nav.currentRow())
        ctx.run_check()
        ctx.downloads.restore()  # last run's unfinished downloads, paused, in the models page

    def _ensure_page(self, name: str) -> QWidget:
        if name not in self.pages:
            assert self.ctx is not None
            page = _factory(name)(self.ctx)
            page.setObjectName(f"page-{name}")
            self.pages[name] = page
            self.stack.addWidget(page)
        return self.pages[name]

    def build_all(self) -> None:
        for name in PAGES:
            self._ensure_page(name)

    def _nav_changed(self, index: int) -> None:
        if self.ctx is not None and 0 <= index < len(PAGES):
            self.stack.setCurrentWidget(self._ensure_page(PAGES[index]))

    def show_page(self, name: str) -> None:
        if name in PAGES:
            self.nav.setCurrentRow(PAGES.index(name))
            self._nav_changed(PAGES.index(name))

    def current_page(self) -> str:
        return PAGES[self.nav.currentRow()]

    # -- reactions --------------------------------------------------------------------------
    def _engine_ready(self, url: str) -> None:
        from launcher.engine.process import EngineState

        assert self.ctx is not None
        if self.ctx.settings.open_browser and self.ctx.engine.state is not EngineState.EXTERNAL:
            self.ctx.open_url(url)

    def _mark_console(self, state: EngineState) -> None:
        from launcher.engine.process import EngineState

        item = self.nav.item(PAGES.index("console"))
        colors = theme.current()
        color = {EngineState.RUNNING: colors.ok, EngineState.CRASHED: colors.error}.get(state, "")
        item.setIcon(theme.icon("console", color))

    def _settings_changed(self, settings: Settings) -> None:
        assert self.ctx is not None
        lang = i18n.resolve_language(settings.language)
        theme_changed = theme.resolve(settings.theme) is not theme.current()
        if lang != self.ctx.lang or theme_changed:
            self.ctx.lang = lang
            i18n.install(lang)
            app = QApplication.instance()
            if isinstance(app, QApplication):
                theme.apply(app, settings.theme)
            self.rebuild()

    def rebuild(self) -> None:
        """Build the pages again (after a language or theme change); the engine keeps running."""
        assert self.ctx is not None
        current = self.current_page()
        for page in self.pages.values():
            self.stack.removeWidget(page)
            page.deleteLater()
        self.pages.clear()
        titles = page_titles()
        for i, name in enumerate(PAGES):
            self.nav.item(i).setText(titles[name])
            self.nav.item(i).setIcon(theme.icon(name))
        self.show_page(current)
        self._mark_console(self.ctx.engine.state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if self.ctx is not None:
            self._save_geometry()
            self.shut_down()
        super().closeEvent(event)

    def shut_down(self, engine_ms: int = 4000, workers_ms: int = 2000) -> None:
        """Leave nothing running: the engine's whole tree, the pages' work, the downloads, the workers."""
        from launcher import workers

        if self.ctx is None:
            return
        self.ctx.engine.shutdown_blocking(engine_ms)
        for page in self.pages.values():
            stop = getattr(page, "shutdown", None)
            if callable(stop):
                stop()
        self.ctx.downloads.shutdown()
        workers.wait_all(workers_ms)

    def _restore_geometry(self) -> None:
        saved, size = self.window_state.get("geometry"), self.window_state.get("size")
        if isinstance(saved, str) and saved:
            self.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii")))
        if isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size):
            self.resize(size[0], size[1])  # the size even where the screen made Qt shrink it
        elif not saved:
            self.resize(1100, 740)

    def _save_geometry(self) -> None:
        assert self.ctx is not None
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        size = [self.width(), self.height()] if not self.isMaximized() else self.window_state.get("size")
        window = dict(self.ctx.settings.window, geometry=geometry, size=size, maximized=self.isMaximized())
        try:
            self.ctx.save(self.ctx.settings.model_copy(update={"window": window}))
        except OSError as exc:
            log.warning("window size not saved: %s", exc)
