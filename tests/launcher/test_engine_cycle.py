"""Start, running, stop, crash, restart and quit with the scripted engine stand-in."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from launcher.engine.process import EngineState
from tests.conftest import serving

pytestmark = pytest.mark.timeout(60)


def wait_state(qtbot, engine, state: EngineState, timeout: int = 15000) -> None:
    qtbot.waitUntil(lambda: engine.state is state, timeout=timeout)


def test_start_running_stop_leaves_no_process(qtbot, make_window, port, monkeypatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("launcher.context.AppContext.open_url", staticmethod(lambda url: opened.append(url) or True))
    window = make_window(show=True, open_browser=True)
    home = window.pages["home"]
    engine = window.ctx.engine
    qtbot.mouseClick(home.start_button, qtbot_left())
    wait_state(qtbot, engine, EngineState.RUNNING)
    assert engine.url == f"http://127.0.0.1:{port}"
    assert engine.startup_seconds == pytest.approx(0.4)
    assert opened == [f"http://127.0.0.1:{port}"]  # the browser opens once the engine can serve
    assert home.state_label.text() == "Running" and f"http://127.0.0.1:{port}" in home.url_label.text()
    assert home.start_button.text() == "Stop"
    assert home.open_page.isEnabled()
    pids = engine.pids()
    assert pids and all(psutil.pid_exists(p) for p in pids)
    # the stand-in got the arguments the launcher derives from settings
    assert any(f"--port {port}" in line and "--parent-pid" in line for line in window.ctx.console)
    assert "已加载模型：演示模型" in window.ctx.console
    qtbot.mouseClick(home.start_button, qtbot_left())
    wait_state(qtbot, engine, EngineState.STOPPED)
    assert "Engine stopped." in window.ctx.console  # it left through /maple/v1/shutdown
    assert home.start_button.text() == "Start"
    assert not _alive(pids)


def test_crash_shows_exit_code_lines_and_diagnosis(qtbot, make_window, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_ENGINE_MODE", "crash")
    window = make_window(show=True)
    home = window.pages["home"]
    with qtbot.waitSignal(window.ctx.engine.crashed, timeout=15000) as crash:
        window.ctx.start_engine()
    info = crash.args[0]
    assert info.exit_code == 3
    assert any("CUDA out of memory" in line for line in info.last_lines)
    assert [d.code for d in info.diagnoses] == ["out-of-memory"]
    assert not info.restarting
    assert home.crash_panel.isVisible()
    assert "exit code 3" in home.crash_title.text()
    assert "The GPU ran out of memory" in home.crash_diagnosis.text()
    assert "CUDA out of memory" in home.crash_lines.toPlainText()
    assert window.ctx.engine.state is EngineState.CRASHED


def test_failed_start_up_is_shown_and_the_engine_stopped(qtbot, make_window, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_ENGINE_MODE", "startfail")
    window = make_window(show=True, restart_on_crash=True)
    home = window.pages["home"]
    with qtbot.waitSignal(window.ctx.engine.crashed, timeout=15000) as crash:
        window.ctx.start_engine()
    info = crash.args[0]
    assert info.startup_failed and not info.restarting
    assert {d.code for d in info.diagnoses} == {"broken-model", "no-model"}
    assert window.ctx.engine.state is EngineState.CRASHED
    assert window.ctx.engine.pids() == []  # Maple stopped the engine that could not serve
    assert home.crash_title.text() == "The engine could not start."
    assert "No model could be loaded" in home.crash_diagnosis.text()


def test_restart_after_crash_when_asked(qtbot, make_window, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_ENGINE_MODE", "crash")
    window = make_window(restart_on_crash=True)
    engine = window.ctx.engine
    crashes = []
    engine.crashed.connect(crashes.append)
    window.ctx.start_engine()
    qtbot.waitUntil(lambda: len(crashes) >= 2, timeout=20000)
    assert crashes[0].restarting
    assert engine.restarts >= 1


def test_stop_kills_a_stubborn_engine_tree(qtbot, make_window, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_ENGINE_MODE", "stubborn")
    monkeypatch.setattr("launcher.engine.process.STOP_GRACE_MS", 800)
    window = make_window()
    engine = window.ctx.engine
    engine._kill_timer.setInterval(800)
    window.ctx.start_engine()
    wait_state(qtbot, engine, EngineState.RUNNING)
    qtbot.waitUntil(lambda: "child started" in window.ctx.console, timeout=5000)
    pids = engine.pids()
    assert len(pids) == 2  # the engine and its child
    engine.stop()
    wait_state(qtbot, engine, EngineState.STOPPED)
    qtbot.waitUntil(lambda: not _alive(pids), timeout=8000)


def test_closing_the_window_leaves_no_engine(qtbot, make_window, monkeypatch) -> None:
    monkeypatch.setenv("FAKE_ENGINE_MODE", "stubborn")
    window = make_window(show=True)
    engine = window.ctx.engine
    window.ctx.start_engine()
    wait_state(qtbot, engine, EngineState.RUNNING)
    qtbot.waitUntil(lambda: "child started" in window.ctx.console, timeout=5000)
    pids = engine.pids()
    window.close()
    assert pids and not _alive(pids)


def test_busy_port_moves_to_the_next_free_one(qtbot, make_window, port) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        window = make_window(show=True)
        notices = []
        window.ctx.engine.notice.connect(notices.append)
        window.ctx.start_engine()
        wait_state(qtbot, window.ctx.engine, EngineState.RUNNING)
        assert window.ctx.engine.port != port
        assert f"Port {port} is used" in notices[0]
        assert str(window.ctx.engine.port) in window.pages["home"].notice.text()


def test_a_maple_engine_already_there_can_be_used(qtbot, make_window, port) -> None:
    with serving(_maple_lookalike(port)):
        window = make_window(show=True)
        home = window.pages["home"]
        asked = []
        home.ask_use_existing = lambda plan: asked.append(plan) or True
        window.ctx.start_engine()
        wait_state(qtbot, window.ctx.engine, EngineState.EXTERNAL)
        assert asked[0].port == port
        assert window.ctx.engine.pids() == []  # nothing was started
        assert f"http://127.0.0.1:{port}" in home.url_label.text()
        window.ctx.engine.stop()
        assert window.ctx.engine.state is EngineState.STOPPED


def test_declining_the_engine_already_there_starts_another(qtbot, make_window, port) -> None:
    with serving(_maple_lookalike(port)):
        window = make_window()
        window.pages["home"].ask_use_existing = lambda plan: False
        window.ctx.start_engine()
        wait_state(qtbot, window.ctx.engine, EngineState.RUNNING)
        assert window.ctx.engine.port > port


def _maple_lookalike(port: int) -> ThreadingHTTPServer:
    class Ready(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b'{"ready": true, "model": "x", "startup_time": 1.0}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Ready)


def _alive(pids: list[int]) -> list[int]:
    from launcher.engine.proctree import alive

    return alive(pids)


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_stop_while_the_port_is_being_chosen_calls_the_start_off(qtbot, make_window) -> None:
    window = make_window()
    engine = window.ctx.engine
    window.ctx.start_engine()
    engine.stop()
    assert engine.state is EngineState.STOPPED
    qtbot.wait(500)
    assert engine.state is EngineState.STOPPED and engine.pids() == []
