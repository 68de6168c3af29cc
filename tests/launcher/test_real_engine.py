"""End to end: the launcher starts the real engine on the tiny demo model, which reaches
"Startup time" and generates through the API; Stop leaves nothing behind."""

from __future__ import annotations

import base64
import json
import urllib.request

import pytest

from installer.contract import is_ready_line
from launcher.engine.process import EngineState
from launcher.engine.proctree import alive

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_real_engine_starts_generates_and_stops(qtbot, make_window, home) -> None:
    from launcher.engine.command import engine_program

    window = make_window(show=True, program=engine_program(), device="cpu")
    engine = window.ctx.engine
    window.pages["home"].toggle()
    qtbot.waitUntil(lambda: engine.state in (EngineState.RUNNING, EngineState.CRASHED), timeout=240_000)
    assert engine.state is EngineState.RUNNING, "\n".join(list(engine.tail)[-30:])
    assert any(line.startswith("Startup time:") for line in window.ctx.console)
    assert not any(is_ready_line(line) for line in window.ctx.console)  # the engine's line for Maple only
    assert engine.startup_seconds is not None and engine.startup_seconds > 0
    ready = json.loads(urllib.request.urlopen(engine.url + "/maple/v1/ready", timeout=10).read())
    assert ready["ready"] is True
    body = json.dumps({"prompt": "a maple leaf", "steps": 2, "width": 64, "height": 64, "seed": 1}).encode()
    req = urllib.request.Request(engine.url + "/sdapi/v1/txt2img", data=body,
                                 headers={"Content-Type": "application/json"})
    reply = json.loads(urllib.request.urlopen(req, timeout=120).read())
    png = base64.b64decode(reply["images"][0])
    assert png.startswith(b"\x89PNG")
    pids = engine.pids()
    window.pages["home"].toggle()
    qtbot.waitUntil(lambda: engine.state is EngineState.STOPPED, timeout=30_000)
    assert not alive(pids)
