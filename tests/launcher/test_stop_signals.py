"""Ctrl-C (SIGINT) and SIGTERM stop the whole of Maple: a real launcher process with a real engine
child, in the window (offscreen) and in the terminal; within 5 seconds, exit code 0, no traceback,
nothing left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_S = 5.0


def _launcher(home: Path, port: int, mode: str, engine_cmd: str | None = None) -> subprocess.Popen[str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps({"version": 1, "port": port, "open_browser": False,
                                                    "device": "cpu"}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM",
                                                            "MAPLE_ENGINE_CMD")}
    env["PYTHONUNBUFFERED"] = "1"
    if engine_cmd:
        env["MAPLE_ENGINE_CMD"] = engine_cmd
    args = [sys.executable, "-m", "launcher", "--home", str(home), "--lang", "en"]
    if mode == "window":
        env["QT_QPA_PLATFORM"] = "offscreen"  # the window, without a screen
        args.append("--start")
    else:
        args.append("--headless")
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
                            start_new_session=True)  # a terminal's Ctrl-C would reach the launcher's group


def _wait_ready(proc: subprocess.Popen[str], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/maple/v1/ready", timeout=2) as resp:
                if json.loads(resp.read())["ready"]:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("the engine did not become ready")


def _stop_and_check(proc: subprocess.Popen[str], sig: int) -> str:
    family = psutil.Process(proc.pid).children(recursive=True)
    assert family, "the launcher has no engine child"
    started = time.monotonic()
    os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)  # Ctrl-C: the whole group
    out, _ = proc.communicate(timeout=30)
    took = time.monotonic() - started
    assert proc.returncode == 0, out
    assert took < STOP_WITHIN_S, f"took {took:.1f} s\n{out}"
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    time.sleep(0.3)
    left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, left
    return out


@pytest.mark.slow
@pytest.mark.timeout(400)
@pytest.mark.parametrize("mode", ["window", "headless"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_maple_and_its_real_engine(tmp_path: Path, mode: str, sig: int) -> None:
    port = free_port()
    proc = _launcher(tmp_path / "home", port, mode)
    try:
        _wait_ready(proc, port, timeout=300)
        out = _stop_and_check(proc, sig)
        if mode == "headless":
            assert out.count("Stopping the engine...") == 1 and "The engine stopped." in out
        assert not (tmp_path / "home" / "cache" / "engine.json").exists()  # the engine said it left
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.timeout(60)
def test_window_stops_on_sigterm_while_starting_and_a_second_signal_changes_nothing(tmp_path: Path) -> None:
    from tests.launcher.conftest import FAKE_ENGINE

    port = free_port()
    cmd = f"{sys.executable} {FAKE_ENGINE}"
    proc = _launcher(tmp_path / "home", port, "window", cmd)
    try:
        _wait_ready(proc, port, timeout=40)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0 and "Traceback" not in out, out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_signal_after_the_stop_finished_is_still_only_logged() -> None:
    """The window's loop can end before a second SIGTERM arrives, and Python puts the default handler
    back for its own ones as it exits: after a stop the signals are ignored, so it cannot end Maple."""
    from launcher.stop_signals import (
        STOP_SIGNALS,
        QtStopSignals,
        StopRequest,
        interrupt_on_stop_signals,
    )

    own = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    try:
        calls: list[int] = []
        handler = StopRequest(calls.append)
        stops = QtStopSignals(handler, {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}, [])
        os.kill(os.getpid(), signal.SIGTERM)
        stops.close()
        assert all(signal.getsignal(sig) == signal.SIG_IGN for sig in STOP_SIGNALS)
        os.kill(os.getpid(), signal.SIGTERM)  # would end this process with the default handler
        assert calls == [signal.SIGTERM]

        signal.signal(signal.SIGTERM, own[signal.SIGTERM])
        quiet = StopRequest(calls.append)
        unused = QtStopSignals(quiet, {sig: signal.signal(sig, quiet) for sig in STOP_SIGNALS}, [])
        unused.close()  # no stop asked for: the previous handlers come back
        assert signal.getsignal(signal.SIGTERM) == own[signal.SIGTERM]

        with pytest.raises(KeyboardInterrupt), interrupt_on_stop_signals():
            os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGTERM)  # the terminal start after its stop: ignored
    finally:
        for sig, old in own.items():
            signal.signal(sig, old)


@pytest.mark.timeout(90)
def test_sigterm_closes_the_window_and_leaves_a_running_download_paused_to_resume(qtbot, make_window, home, server) -> None:
    """The handler ``run_gui`` installs, on this test's own process: the download keeps its ``.part``
    and its queue entry, and the next start offers it paused."""
    import hashlib

    from PySide6.QtWidgets import QApplication

    from installer.downloads.spec import DownloadSpec
    from launcher.startup import _stop_on_signals
    from tests.installer.fault_server import Faults

    data = os.urandom(2 * 1024 * 1024)
    url = server.add("/files/slow.safetensors", data, Faults(rate=500_000))
    folder = home.models_dir("checkpoint")
    window = make_window(show=True)
    spec = DownloadSpec([("local", url)], folder, "slow.safetensors", len(data), hashlib.sha256(data).hexdigest(),
                        "checkpoint")
    job = window.ctx.downloads.add_spec(spec)
    qtbot.waitUntil(lambda: (folder / "slow.safetensors.part").exists()
                    and (folder / "slow.safetensors.part").stat().st_size > 100_000, timeout=20000)
    app = QApplication.instance()
    own = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stop = _stop_on_signals(app, window)  # type: ignore[arg-type]
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=STOP_WITHIN_S * 1000)
    finally:
        stop.close()
        for sig, old in own.items():  # a stop keeps its handler to the end; this test process goes on
            signal.signal(sig, old)
    part = folder / "slow.safetensors.part"
    assert part.exists() and 0 < part.stat().st_size < len(data) and not (folder / "slow.safetensors").exists()
    assert job and "slow.safetensors" in (home.cache_dir / "downloads.json").read_text(encoding="utf-8")
    next_start = make_window()  # the next start offers it, paused, with the bytes already there
    qtbot.waitUntil(lambda: len(next_start.ctx.downloads.current()) == 1, timeout=15000)
    next_start.show_page("models")
    [row] = next_start.pages["models"].downloads.rows.values()
    assert row.state == "paused" and 0 < row.bar.value() < 1000
