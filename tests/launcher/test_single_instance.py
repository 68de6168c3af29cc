"""One launcher at a time: a second launch asks the first window to come forward."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from launcher.single_instance import SingleInstance, ask_running_instance, server_name


def test_second_launch_reaches_the_first(qtbot, tmp_path: Path) -> None:
    name = server_name(str(tmp_path))
    assert not ask_running_instance(name, 200)
    first = SingleInstance(name)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activated, timeout=5000):
            # a real second process, as a second double-click would be
            code = (
                "import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
                "from launcher.single_instance import ask_running_instance;"
                f"sys.exit(0 if ask_running_instance({name!r}, 3000) else 1)"
            )
            second = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                                      env=dict(os.environ))
            qtbot.waitUntil(lambda: second.poll() is not None, timeout=10000)
        assert second.returncode == 0
    finally:
        first.close()


def test_window_comes_forward_when_asked(qtbot, make_window) -> None:
    from launcher.startup import bring_forward

    window = make_window()
    window.showMinimized()
    bring_forward(window)
    assert window.isVisible() and not window.isMinimized()


def test_names_differ_per_data_home() -> None:
    assert server_name("/a") != server_name("/b")


def test_a_second_maple_leaves_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[2]
    first = subprocess.Popen([sys.executable, "-m", "launcher", "--home", str(home)], cwd=root, env=env)
    try:
        sock = Path(server_name(str(home.absolute())))
        deadline = time.monotonic() + 20
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sock.exists()
        second = subprocess.run([sys.executable, "-m", "launcher", "--home", str(home)], cwd=root, env=env,
                                timeout=20)
        assert second.returncode == 0
        assert first.poll() is None  # the first window is still there
    finally:
        first.terminate()
        first.wait(timeout=10)
