"""The machine check the window runs sends the settings' ``api_auth``, so an engine of this Maple that
asks for a password is recognised on its port instead of being taken for another program."""

from __future__ import annotations

from typing import Any

import pytest


def test_the_window_check_sends_the_api_password(make_window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import installer.machine.report as report

    asked: list[str] = []
    real = report.check

    def check(home: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("auth", ""))
        return real(home, **kwargs)

    monkeypatch.setattr(report, "check", check)
    window = make_window(api_auth="maple:secret")
    qtbot.waitUntil(lambda: bool(asked), timeout=15000)
    assert asked[0] == "maple:secret"
    qtbot.waitUntil(lambda: not window.ctx.checking, timeout=30000)
