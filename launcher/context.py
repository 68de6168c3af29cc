"""What every page shares: the data home, the settings, the machine check, the engine, the console."""

from __future__ import annotations

import collections
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from installer.home import Home
from installer.settings import Settings, save_settings
from launcher import check_view, workers
from launcher.downloads_bridge import DownloadsBridge
from launcher.engine.process import EngineProcess

log = logging.getLogger(__name__)

CONSOLE_KEEP = 5000  # console lines kept (the page shows the same number)


class AppContext(QObject):
    check_ready = Signal(object)  # the MachineReport
    check_failed = Signal(str)
    settings_changed = Signal(object)  # the new Settings
    show_page = Signal(str)  # a page asks the window to switch to another ("models", ...)

    def __init__(self, home: Home, settings: Settings, lang: str,
                 program: list[str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.home = home
        self.settings = settings
        self.lang = lang
        self.report: Any = None
        self.engine = EngineProcess(home.root, program, self)
        self.console: collections.deque[str] = collections.deque(maxlen=CONSOLE_KEEP)
        self.engine.lines.connect(self.console.extend)
        self.checking = False
        self.downloads = DownloadsBridge(home, settings, self)  # outlives the pages (rebuilt on a language change)

    # -- the machine check --------------------------------------------------------------------
    def run_check(self) -> None:
        if self.checking:
            return
        self.checking = True
        root, port, auth = self.home.root, self.settings.port, self.settings.api_auth
        workers.submit(lambda _p, _c: check_view.run_check(root, port, auth),
                       on_done=self._check_done, on_error=self._check_error, name="machine-check")

    def _check_done(self, report: Any) -> None:
        self.checking = False
        self.report = report
        self.check_ready.emit(report)

    def _check_error(self, exc: Exception) -> None:
        self.checking = False
        self.check_failed.emit(str(exc))

    # -- settings and the engine ------------------------------------------------------------
    def save(self, settings: Settings) -> None:
        folders_changed = settings.shared_folders != self.settings.shared_folders
        save_settings(self.home.settings_file, settings)
        self.settings = settings
        self.downloads.settings = settings
        self.settings_changed.emit(settings)
        if folders_changed:
            self.engine.rescan_models()  # a running engine lists the shared folders' models at once

    def start_engine(self) -> None:
        args = check_view.check_args(self.report) if self.report is not None else []
        self.engine.start(self.settings, args)

    # -- the desktop --------------------------------------------------------------------------
    @staticmethod
    def open_url(url: str) -> bool:
        return QDesktopServices.openUrl(QUrl(url))

    @staticmethod
    def open_folder(path: Path) -> bool:
        path.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
