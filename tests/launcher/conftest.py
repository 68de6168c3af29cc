"""Launcher test set-up: a window on a fresh data home, with the scripted engine stand-in."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake_program() -> list[str]:
    return [sys.executable, str(FAKE_ENGINE)]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def make_window(qtbot, home, fake_program, port) -> Iterator[Callable[..., object]]:
    """Build a MainWindow (not shown unless asked); every engine it started is gone afterwards."""
    from installer.settings import Settings
    from launcher import workers
    from launcher.startup import build_window

    made = []

    def make(lang: str = "en", show: bool = False, program: list[str] | None = None,
             from_file: bool = False, **settings: object):
        """``from_file``: read settings.json as the launcher does; otherwise use ``settings``."""
        from installer.settings import load_settings

        if from_file:
            chosen = load_settings(home.settings_file).settings
        else:
            chosen = Settings(**({"port": port, "open_browser": False} | settings))
        window = build_window(home, chosen, lang, program or fake_program)
        qtbot.addWidget(window)
        made.append(window)
        if show:
            window.show()
            qtbot.waitExposed(window)
        return window

    yield make
    for window in made:
        window.ctx.engine.shutdown_blocking(2000)
        for page in window.pages.values():
            stop = getattr(page, "shutdown", None)
            if callable(stop):
                stop()
        window.ctx.downloads.shutdown()
    workers.wait_all(5000)
    from launcher import i18n

    i18n.install("en")
