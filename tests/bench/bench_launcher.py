"""Launcher benchmarks (offscreen), each side measured in the same run.

1. Process start to window shown: the launcher (``maple``'s GUI path on a fresh data home) against a
   bare PySide6 script that shows an empty QMainWindow. Aim: at most 1.5x.
2. Memory (RSS) once the window is shown and the machine check is done, against the bare window.
3. The console page's event-loop delay while the engine stand-in prints 10,000 lines a second,
   against the same window with an idle console. Aim: under 50 ms.

Run: .venv/bin/python tests/bench/bench_launcher.py [--runs 7] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MARK = textwrap.dedent("""
    import sys, time
    from PySide6.QtCore import QTimer
    def _mark():
        print(f"SHOWN {time.time():.6f} {time.process_time():.6f}", flush=True)
        sys.stdin.readline()  # the parent reads our memory, then lets us go
        from PySide6.QtWidgets import QApplication
        QApplication.instance().quit()
""")

LAUNCHER = MARK + textwrap.dedent("""
    from launcher import app as _app, startup as _startup
    _orig = _app.MainWindow.showEvent
    def _show(self, event):
        _orig(self, event)
        QTimer.singleShot(0, _mark)
    _app.MainWindow.showEvent = _show
    sys.exit(_startup.run_gui(sys.argv[1], "en", ["maple"]))
""")

BARE = MARK + textwrap.dedent("""
    from PySide6.QtWidgets import QApplication, QMainWindow
    app = QApplication(["bare"])
    class W(QMainWindow):
        def showEvent(self, event):
            super().showEvent(event)
            QTimer.singleShot(0, _mark)
    w = W()
    w.resize(1100, 740)
    w.show()
    sys.exit(app.exec())
""")


def one_start(code: str, home: str, settle: float) -> tuple[float, float, int]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.time()
    proc = subprocess.Popen([sys.executable, "-c", code, home], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if not line.startswith("SHOWN"):
        proc.kill()
        raise RuntimeError(f"no window: {line!r}")
    shown, cpu = float(line.split()[1]) - t0, float(line.split()[2])
    time.sleep(settle)  # the launcher's machine check runs after the window shows
    rss = psutil.Process(proc.pid).memory_info().rss
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(timeout=30)
    return shown, cpu, rss


def bench_start(runs: int) -> None:
    launcher_times, bare_times, launcher_rss, bare_rss, launcher_cpu, bare_cpu = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        one_start(BARE, tmp, 0)  # warm the file cache for both
        one_start(LAUNCHER, str(Path(tmp) / "warm"), 0)
        for i in range(runs):
            t, c, r = one_start(LAUNCHER, str(Path(tmp) / f"home{i}"), 1.5)
            launcher_times.append(t)
            launcher_cpu.append(c)
            launcher_rss.append(r)
            t, c, r = one_start(BARE, tmp, 1.5)
            bare_times.append(t)
            bare_cpu.append(c)
            bare_rss.append(r)
    lt, bt = statistics.median(launcher_times), statistics.median(bare_times)
    lc, bc = statistics.median(launcher_cpu), statistics.median(bare_cpu)
    lm, bm = statistics.median(launcher_rss) / 2**20, statistics.median(bare_rss) / 2**20
    print(f"start to window shown (median of {runs}): launcher {lt * 1000:.0f} ms, bare window {bt * 1000:.0f} ms, "
          f"ratio {lt / bt:.2f}x (aim <= 1.5x)")
    print(f"  best run: launcher {min(launcher_times) * 1000:.0f} ms, bare {min(bare_times) * 1000:.0f} ms, "
          f"ratio {min(launcher_times) / min(bare_times):.2f}x")
    print(f"  CPU time until shown (median; not skewed by other load): launcher {lc * 1000:.0f} ms, "
          f"bare {bc * 1000:.0f} ms, ratio {lc / bc:.2f}x")
    print(f"  launcher runs: {', '.join(f'{t * 1000:.0f}' for t in launcher_times)} ms")
    print(f"  bare runs:     {', '.join(f'{t * 1000:.0f}' for t in bare_times)} ms")
    print(f"memory after show (RSS, median): launcher {lm:.1f} MiB, bare window {bm:.1f} MiB, ratio {lm / bm:.2f}x")


def bench_console(seconds: float, rate: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["FAKE_ENGINE_MODE"] = "flood"
    os.environ["FAKE_ENGINE_RATE"] = str(rate)
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from installer.home import Home
    from installer.settings import Settings
    from launcher.engine.process import EngineState
    from launcher.startup import build_window, create_app
    from tests.launcher.conftest import FAKE_ENGINE, free_port

    app = create_app(["bench"])
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp)).ensure()
        window = build_window(home, Settings(port=free_port(), open_browser=False), "en",
                              [sys.executable, str(FAKE_ENGINE)])
        window.show()
        window.show_page("console")
        counted = [0]
        window.ctx.engine.lines.connect(lambda batch: counted.__setitem__(0, counted[0] + len(batch)))

        def measure(label: str) -> tuple[float, float]:
            delays: list[float] = []
            clock = QElapsedTimer()
            clock.start()
            last = [clock.elapsed()]

            def tick() -> None:
                now = clock.elapsed()
                delays.append(max(0.0, now - last[0] - 10))
                last[0] = now

            timer = QTimer(interval=10)
            timer.timeout.connect(tick)
            before = counted[0]
            cpu0 = time.process_time()
            timer.start()
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                app.processEvents()
                time.sleep(0.001)
            timer.stop()
            got = (counted[0] - before) / seconds
            cpu = 100 * (time.process_time() - cpu0) / seconds
            worst, p99 = max(delays), statistics.quantiles(delays, n=100)[98]
            print(f"  {label}: event-loop delay max {worst:.1f} ms, p99 {p99:.1f} ms, "
                  f"median {statistics.median(delays):.1f} ms; console lines received {got:,.0f}/s; "
                  f"launcher CPU {cpu:.0f}% of a core")
            return worst, p99

        print(f"console event-loop delay over {seconds:.0f} s (10 ms timer, lateness):")
        idle = measure("idle console       ")
        window.ctx.start_engine()
        deadline = time.monotonic() + 60
        while window.ctx.engine.state is not EngineState.RUNNING and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        busy = measure(f"engine {rate:,} lines/s")
        shown = window.pages["console"].view.document().blockCount()
        print(f"  lines kept in the view: {shown} (cap 5000); ratio busy/idle p99 "
              f"{busy[1] / max(idle[1], 0.1):.1f}x; aim: max under 50 ms -> {'met' if busy[0] < 50 else 'NOT met'}")
        window.close()
        QApplication.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=10_000)
    args = parser.parse_args()
    bench_start(args.runs)
    bench_console(args.seconds, args.rate)


if __name__ == "__main__":
    main()
