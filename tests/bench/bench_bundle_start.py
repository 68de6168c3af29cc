"""Unzip -> launcher window shown, with the Windows bundle's layout, against starting from the checkout.

    .venv/bin/python tests/bench/bench_bundle_start.py [--zip dist/Maple-<v>-win64.zip] [--runs 5]

Measured on Linux (offscreen), side by side in one run: the whole zip is extracted into a new
folder (all of it, as a Windows user does), then this machine's Python starts the launcher from
the extracted ``launcher``/``installer``/``assets`` (the bundle's layout: portable marker, data
home beside it, no byte code yet); a second start from the same folder shows the cost once the
byte code is written. The reference is the launcher started from the checkout. The bundle's own
python.exe and Qt DLLs cannot show a window here (Wine 8 lacks Windows' ICU for Qt 6.7+).
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
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.bundle.build import Inputs, build  # noqa: E402

LAUNCHER = textwrap.dedent("""
    import sys, time
    from PySide6.QtCore import QTimer
    import launcher
    from launcher import app as _app, startup as _startup
    def _mark():
        print(f"SHOWN {time.time():.6f} {launcher.__file__}", flush=True)
        from PySide6.QtWidgets import QApplication
        QApplication.instance().quit()
    _orig = _app.MainWindow.showEvent
    def _show(self, event):
        _orig(self, event)
        QTimer.singleShot(0, _mark)
    _app.MainWindow.showEvent = _show
    sys.exit(_startup.run_gui(None if sys.argv[1] == "-" else sys.argv[1], "en", ["maple"]))
""")


def shown_after(cwd: Path, home: str) -> float:
    """Seconds from process start to the main window shown; checks which launcher was imported."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    started = time.time()
    done = subprocess.run([sys.executable, "-c", LAUNCHER, home], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("SHOWN")), "")
    if not line:
        raise RuntimeError(f"no window from {cwd}: {done.stderr[-2000:]}")
    _, when, module = line.split(" ", 2)
    if not Path(module).resolve().is_relative_to(cwd.resolve()):
        raise RuntimeError(f"the launcher came from {module}, not from {cwd}")
    return float(when) - started


def unzip(archive: Path, dest: Path) -> float:
    started = time.monotonic()
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(dest)
    return time.monotonic() - started


def one_round(archive: Path, folder: str, work: Path) -> tuple[float, float, float, float]:
    dest = work / "unzipped"
    took = unzip(archive, dest)
    bundle = dest / folder
    first = shown_after(bundle, "-")
    second = shown_after(bundle, "-")
    assert (bundle / "data").is_dir(), "the portable data home beside the launcher was not used"
    checkout = shown_after(ROOT, str(work / "checkout-home"))
    return took, first, second, checkout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zip", type=Path, help="a built bundle (default: build one now)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    archive = args.zip or build(Inputs()).zip_path
    folder = archive.name.removesuffix(".zip")
    with tempfile.TemporaryDirectory() as tmp:
        shown_after(ROOT, str(Path(tmp) / "warm"))  # byte code and file cache of the checkout
        rounds = []
        for i in range(args.runs):
            work = Path(tmp) / f"round{i}"
            work.mkdir()
            rounds.append(one_round(archive, folder, work))
    took, first, second, checkout = (statistics.median(col) for col in zip(*rounds, strict=True))
    print(f"median of {args.runs} (ms): unzip {took * 1e3:.0f}, first start {first * 1e3:.0f}, "
          f"second start {second * 1e3:.0f}, from the checkout {checkout * 1e3:.0f}")
    print(f"unzip -> window shown: {(took + first) * 1e3:.0f} ms, ratio {(took + first) / checkout:.2f}x "
          f"the checkout's start")
    print(f"first start from the unzipped layout: {first / checkout:.2f}x; second start: {second / checkout:.2f}x")


if __name__ == "__main__":
    main()
