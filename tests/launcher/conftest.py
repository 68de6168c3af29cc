"""Launcher test set-up: a window on a fresh data home, with the scripted engine stand-in."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

__all__ = ["FAKE_ENGINE", "free_port"]

FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")


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
        window.shut_down(engine_ms=2000, workers_ms=5000)
    from launcher import i18n

    i18n.install("en")
