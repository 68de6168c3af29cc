"""DISPLAY set but no X server answering: Maple says so and starts in the terminal instead of letting
Qt abort (exit 134)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from launcher.qt_libs import unreachable_display, x_server_answers
from tests.conftest import free_port
from tests.launcher.conftest import FAKE_ENGINE

ROOT = Path(__file__).resolve().parents[2]


def test_a_listening_unix_socket_is_an_x_server_and_a_missing_one_is_not(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "X7"))
        server.listen(1)
        assert x_server_answers(":7", str(tmp_path))
        assert x_server_answers("unix:7.0", str(tmp_path))
        assert not x_server_answers(":8", str(tmp_path))
    assert not x_server_answers(":7", str(tmp_path))  # the socket file is left, nobody listens
    assert not x_server_answers("garbage", str(tmp_path))


def test_tcp_displays_are_tried_on_port_6000_plus_n() -> None:
    with socket.socket() as server:
        try:
            server.bind(("127.0.0.1", 6099))
        except OSError:
            pytest.skip("port 6099 is taken here")
        server.listen(1)
        assert x_server_answers("127.0.0.1:99")
        assert x_server_answers("127.0.0.1:99.0")
    assert not x_server_answers("127.0.0.1:99")


def test_only_x_displays_are_checked(tmp_path: Path) -> None:
    assert unreachable_display({"DISPLAY": ":5"}, "linux", str(tmp_path)) == ":5"
    assert unreachable_display({"DISPLAY": ":5", "QT_QPA_PLATFORM": "offscreen"}, "linux", str(tmp_path)) is None
    wayland = {"DISPLAY": ":5", "WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}
    assert unreachable_display(wayland, "linux", str(tmp_path)) is None
    assert unreachable_display({}, "linux", str(tmp_path)) is None
    assert unreachable_display({"DISPLAY": ":5"}, "win32", str(tmp_path)) is None


def _free_display() -> str:
    taken = set(os.listdir("/tmp/.X11-unix")) if os.path.isdir("/tmp/.X11-unix") else set()
    number = next(n for n in range(97, 200) if f"X{n}" not in taken and not x_server_answers(f":{n}"))
    return f":{number}"


@pytest.mark.timeout(60)
def test_maple_with_a_dead_display_starts_in_the_terminal(tmp_path: Path) -> None:
    home, port, display = tmp_path / "home", free_port(), _free_display()
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"version": 1, "port": port}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env |= {"DISPLAY": display, "MAPLE_ENGINE_CMD": shlex.join([sys.executable, str(FAKE_ENGINE)]),
            "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "launcher", "--home", str(home), "--lang", "en"], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "Press Ctrl-C to stop Maple." in line:
                break
        text = "\n".join(lines)
        assert f"The window cannot open: no X server answers at DISPLAY={display}." in text
        assert "Starting in this terminal instead." in text
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, text + rest
    finally:
        if proc.poll() is None:
            proc.kill()
