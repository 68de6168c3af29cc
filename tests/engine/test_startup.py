"""The engine as a real process: console lines, port fallback, serving, and clean exits."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from installer.home import Home
from tests.conftest import free_port
from tests.engine.server_helpers import SMALL
from tests.engine.tinymodels import write_tiny_checkpoint

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"^Running on local URL:  http://127\.0\.0\.1:(\d+)$")
STARTUP_LINE = re.compile(r"^Startup time: (\d+\.\d)s \((.+)\)\.$")


class EngineProcess:
    """``python -m engine`` with its output collected line by line."""

    def __init__(self, home: Home, *flags: str, stdin: int | None = subprocess.DEVNULL,
                 env_extra: dict[str, str] | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
        cmd = [sys.executable, "-m", "engine", "--home", str(home.root), "--device", "cpu", *flags]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, encoding="utf-8")
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern: re.Pattern[str], timeout: float = 180) -> re.Match[str]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(self.lines):
                match = pattern.match(line)
                if match:
                    return match
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern.pattern!r}; output:\n" + "\n".join(self.lines))

    def exit_code(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def tiny_home(home: Home) -> Home:
    write_tiny_checkpoint(home.models_dir("checkpoint") / "tiny.safetensors")
    return home


def test_start_lines_port_fallback_serving_and_sigterm(tiny_home: Home) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", free_port()))
    busy.listen(1)
    port = busy.getsockname()[1]
    engine = EngineProcess(tiny_home, "--port", str(port))
    try:
        url_match = engine.wait_line(URL_LINE, 60)
        new_port = int(url_match.group(1))
        assert new_port > port
        assert any(f"Port {port} is in use; using port {new_port} instead." in line for line in engine.lines)
        startup = engine.wait_line(STARTUP_LINE)
        parts = dict(p.split(": ") for p in startup.group(2).split(", "))
        assert "import torch" in parts and "load model" in parts
        assert all(float(v.rstrip("s")) >= 0.1 for v in parts.values())
        assert engine.lines.index(url_match.group(0)) < engine.lines.index(startup.group(0))
        base = f"http://127.0.0.1:{new_port}"
        assert httpx.get(f"{base}/maple/v1/ready").json()["ready"] is True
        assert httpx.post(f"{base}/sdapi/v1/txt2img", json=SMALL, timeout=120).status_code == 200
        log_file = tiny_home.logs_dir / "engine.log"
        assert startup.group(0) in log_file.read_text(encoding="utf-8")
        began = time.time()
        engine.proc.send_signal(signal.SIGTERM)
        assert engine.exit_code(10) == 0, "\n".join(engine.lines)
        assert time.time() - began < 6
        assert "Engine stopped." in engine.lines[-1]
    finally:
        engine.kill()
        busy.close()


def test_exits_when_the_parent_goes_away(tiny_home: Home) -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    engine = EngineProcess(tiny_home, "--port", str(free_port()), "--parent-pid", str(parent.pid))
    try:
        engine.wait_line(URL_LINE, 60)
        time.sleep(0.5)
        assert engine.proc.poll() is None
        parent.kill()
        parent.wait(5)
        assert engine.exit_code(15) == 0, "\n".join(engine.lines)
        assert any("has gone" in line for line in engine.lines)
    finally:
        parent.kill()
        engine.kill()


def test_exits_when_stdin_closes(tiny_home: Home) -> None:
    engine = EngineProcess(tiny_home, "--port", str(free_port()), "--parent-pid", str(os.getpid()),
                           stdin=subprocess.PIPE)
    try:
        engine.wait_line(URL_LINE, 60)
        time.sleep(0.5)
        assert engine.proc.poll() is None
        assert engine.proc.stdin is not None
        engine.proc.stdin.close()
        assert engine.exit_code(15) == 0, "\n".join(engine.lines)
        assert any("closed the engine's input" in line for line in engine.lines)
    finally:
        engine.kill()


def test_stdin_is_not_watched_without_a_launcher(tiny_home: Home) -> None:
    """A plain start with an empty pipe as stdin (CI, ``echo | maple-engine``) keeps running."""
    engine = EngineProcess(tiny_home, "--port", str(free_port()), stdin=subprocess.PIPE)
    try:
        engine.wait_line(URL_LINE, 60)
        assert engine.proc.stdin is not None
        engine.proc.stdin.close()
        time.sleep(2)
        assert engine.proc.poll() is None
    finally:
        engine.kill()


def test_shutdown_endpoint_stops_the_process(tiny_home: Home) -> None:
    port = free_port()
    engine = EngineProcess(tiny_home, "--port", str(port))
    try:
        engine.wait_line(STARTUP_LINE)
        assert httpx.post(f"http://127.0.0.1:{port}/maple/v1/shutdown").json() == {"stopping": True}
        assert engine.exit_code(10) == 0
    finally:
        engine.kill()


MAPLE_LINES = re.compile("|".join([
    URL_LINE.pattern, STARTUP_LINE.pattern, r"^Device: .+, precision \w+(, VRAM mode \w+.*)?$",
    r"^Copied Maple's built-in maple-shapes(-outlined)?\.safetensors to .+$",
    r"^No checkpoint found: starting with Maple's built-in model, a small model that draws coloured shapes \(try .+\)\.$",
    r"^Put a checkpoint in .+Stable-diffusion \(or run: maple-models pull sd15\), then pick it on the page\.$",
    r"^Loaded maple-shapes\.safetensors \(sd1, cpu, torch\.bfloat16\) in \d+\.\ds$", r"^saved 1 image\(s\) to .+$", r"^Stopping the engine\.\.\.$", r"^Engine stopped\.$",
]))


def test_console_holds_only_maples_lines(home: Home) -> None:
    """A start that makes the libraries talk (bf16 casts, their verbosity turned up in the inherited
    environment, a first generation) still shows only Maple's own lines."""
    port = free_port()
    loud = {"TRANSFORMERS_VERBOSITY": "info", "DIFFUSERS_VERBOSITY": "info", "HF_HUB_DISABLE_PROGRESS_BARS": "0"}
    engine = EngineProcess(home, "--port", str(port), "--precision", "bf16", env_extra=loud)
    try:
        engine.wait_line(STARTUP_LINE)
        assert httpx.post(f"http://127.0.0.1:{port}/sdapi/v1/txt2img", json=SMALL, timeout=120).status_code == 200
        assert httpx.post(f"http://127.0.0.1:{port}/maple/v1/shutdown").json() == {"stopping": True}
        assert engine.exit_code(10) == 0
        engine._reader.join(5)
        assert engine.lines and all(MAPLE_LINES.match(line) for line in engine.lines), "\n".join(engine.lines)
    finally:
        engine.kill()


def test_listen_without_auth_is_refused(home: Home) -> None:
    result = subprocess.run([sys.executable, "-m", "engine", "--home", str(home.root), "--listen"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "--api-auth" in result.stderr and "Running on" not in result.stdout


def test_startup_line_lists_phases_of_at_least_a_tenth() -> None:
    from engine.server.timing import StartupTimer, process_start_time

    timer = StartupTimer(start=0.0)
    timer.add("import torch", 1.23)
    timer.add("list models", 0.04)
    timer.add("load model", 0.5)
    timer.total = 2.0
    assert timer.line() == "Startup time: 2.0s (import torch: 1.2s, load model: 0.5s)."
    assert 0 <= time.perf_counter() - process_start_time() < 600  # this interpreter's age
