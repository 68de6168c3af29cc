"""The one-click start in a terminal: the check table, the engine's console, Ctrl-C stops it all."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from launcher.__main__ import has_display
from tests.launcher.conftest import FAKE_ENGINE

pytestmark = pytest.mark.timeout(60)


def test_display_detection() -> None:
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({}, "win32") and has_display({}, "darwin")


def _start(home: Path, port: int, mode: str = "ok", lang: str = "en") -> subprocess.Popen[str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text(json.dumps({"version": 1, "port": port}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env |= {"MAPLE_ENGINE_CMD": shlex.join([sys.executable, str(FAKE_ENGINE)]), "FAKE_ENGINE_MODE": mode,
            "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "launcher", "--home", str(home), "--lang", lang],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=Path(__file__).resolve().parents[2])


def _read_until(proc: subprocess.Popen[str], needle: str, timeout: float = 30) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not seen in:\n" + "\n".join(lines))


def test_headless_start_streams_the_engine_and_ctrl_c_stops_it(tmp_path: Path, port: int) -> None:
    proc = _start(tmp_path / "home", port)
    try:
        lines = _read_until(proc, "Press Ctrl-C to stop Maple.")
        text = "\n".join(lines)
        assert "Maple: checking this machine..." in text
        assert "[ OK ] PyTorch" in text or "[WARN] PyTorch" in text or "[FAIL] PyTorch" in text
        assert f"Running on local URL:  http://127.0.0.1:{port}" in text
        assert lines[-3:] == ["Maple is running. Open this address in your browser:",
                              f"    http://127.0.0.1:{port}", "Press Ctrl-C to stop Maple."]
        engines = psutil.Process(proc.pid).children(recursive=True)
        assert engines
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
        said = rest.splitlines()
        assert said.count("Stopping the engine...") == 1 and said.count("The engine stopped.") == 1
        assert not [line for line in said if "Engine stopped." in line or "Stopping the engine" in line[1:]]
        assert said.index("Stopping the engine...") < said.index("shutdown requested") < said.index("The engine stopped.")
        time.sleep(0.2)
        assert not [p for p in engines if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_headless_start_in_chinese_says_where_to_open_it_and_stops_once(tmp_path: Path, port: int) -> None:
    proc = _start(tmp_path / "home", port, lang="zh")
    try:
        lines = _read_until(proc, "按 Ctrl-C 停止 Maple。")
        assert lines[-3:] == ["Maple 已启动。请在浏览器中打开这个地址：", f"    http://127.0.0.1:{port}", "按 Ctrl-C 停止 Maple。"]
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=20)
        said = rest.splitlines()
        assert said.count("正在停止引擎……") == 1 and said.count("引擎已停止。") == 1
        assert not [line for line in said if "Stopping the engine" in line or "stopped" in line.lower()]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_headless_crash_prints_diagnosis_in_chinese(tmp_path: Path, port: int) -> None:
    proc = _start(tmp_path / "home", port, mode="crash", lang="zh")
    out, _ = proc.communicate(timeout=40)
    assert proc.returncode == 3
    assert "正在检测这台电脑" in out
    assert "引擎已退出，退出码 3。" in out
    assert "显存不足" in out


def test_headless_failed_start_up_stops_the_engine_and_says_why(tmp_path: Path, port: int) -> None:
    proc = _start(tmp_path / "home", port, mode="startfail")
    out, _ = proc.communicate(timeout=40)
    assert proc.returncode == 1
    assert "The engine could not start." in out
    assert "No model could be loaded" in out
