"""Starting the window: the shell at once, the rest right after it shows.

The shell (menu, theme, translations, size) is built from settings.json read as plain JSON and
shown; then, in the event loop, the validated settings, the engine controller and the home page are
made and the machine check starts in a worker. Before the window shows, nothing heavier than Qt's
widgets is imported (no pydantic, psutil, QtNetwork or the ``Qt`` namespace).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

from launcher import i18n, theme
from launcher.app import MainWindow

if TYPE_CHECKING:
    from installer.home import Home
    from installer.settings import Settings
    from launcher.stop_signals import QtStopSignals

log = logging.getLogger(__name__)


def quick_settings(path: Path) -> dict[str, Any]:
    """settings.json as plain JSON, for what the shell needs (language, theme, size); never raises."""
    if not path.exists():
        return {}
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def bring_forward(window: QMainWindow) -> None:
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


def create_app(argv: list[str]) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv)
    app.setApplicationName("Maple")
    app.setOrganizationName("Maple")
    app.setQuitOnLastWindowClosed(True)
    return app


def _shell(window_state: dict[str, Any], lang: str, theme_choice: str) -> MainWindow:
    i18n.install(lang)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        theme.apply(app, theme_choice)
    return MainWindow(window_state)


def build_window(home: Home, settings: Settings, lang_choice: str | None = None,
                 program: list[str] | None = None) -> MainWindow:
    """The whole window at once (tests, screenshots): the QApplication must exist."""
    from launcher.context import AppContext

    lang = i18n.resolve_language(lang_choice or settings.language)
    window = _shell(settings.window, lang, settings.theme)
    window.attach(AppContext(home, settings, lang, program))
    return window


def _finish_start(window: MainWindow, home: Home, lang: str, start: bool = False) -> None:
    from installer.settings import load_settings
    from launcher.context import AppContext
    from launcher.logs import setup_logging

    setup_logging(str(home.logs_dir))  # after the window shows: launcher.log goes in diagnostic bundles
    loaded = load_settings(home.settings_file)
    ctx = AppContext(home, loaded.settings, lang)
    for problem in loaded.problems:
        ctx.console.append(f"[maple] {problem}")
    window.attach(ctx)
    if start:
        _start_after_check(window)


def _start_after_check(window: MainWindow) -> None:
    """``maple --start``: press Start once the machine check is in, as a click would."""
    assert window.ctx is not None
    pressed: list[bool] = []

    def press(*_args: object) -> None:
        home_page = window.pages.get("home")
        if not pressed and home_page is not None:
            pressed.append(True)
            home_page.toggle()  # type: ignore[attr-defined]

    window.ctx.check_ready.connect(press)
    window.ctx.check_failed.connect(press)


def _stop_on_signals(app: QApplication, window: MainWindow) -> QtStopSignals:
    """Ctrl-C / SIGTERM: close the window (which stops the engine, downloads and workers), then quit."""
    from launcher.stop_signals import install_for_qt

    def stop(_signum: int) -> None:
        window.close()
        app.quit()  # also ends a dialog's own loop, should one be open

    return install_for_qt(app, stop)


def run_gui(home_arg: str | None, lang_arg: str | None, argv: list[str], start: bool = False) -> int:
    from installer.home import resolve_home
    from launcher.single_instance import SingleInstance, ask_running_instance, server_name

    app = create_app(argv)
    home = resolve_home(home_arg).ensure()
    name = server_name(str(home.root))
    if ask_running_instance(name):
        log.info("Maple is already open; asked it to come forward")
        return 0
    raw = quick_settings(home.settings_file)
    lang = i18n.resolve_language(lang_arg or str(raw.get("language", "system")))
    saved_window = raw.get("window")
    window = _shell(saved_window if isinstance(saved_window, dict) else {}, lang, str(raw.get("theme", "system")))
    window.show()
    stop_signals = _stop_on_signals(app, window)
    QTimer.singleShot(0, lambda: _finish_start(window, home, lang, start))
    instances: list[SingleInstance] = []

    def listen() -> None:  # after the window shows: QtNetwork is not needed before
        instance = SingleInstance(name, app)
        instance.listen()
        instance.activated.connect(lambda: bring_forward(window))
        instances.append(instance)

    QTimer.singleShot(0, listen)
    code = app.exec()
    stop_signals.close()
    for instance in instances:
        instance.close()
    from launcher import workers

    workers.wait_all(3000)
    return code
