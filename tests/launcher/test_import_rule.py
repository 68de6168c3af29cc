"""The launcher never imports torch, diffusers or the engine (the window must open at once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import launcher

MODULES = ["launcher.__main__", "launcher.app", "launcher.startup", "launcher.headless", "launcher.pages.home",
           "launcher.pages.models", "launcher.pages.console", "launcher.pages.settings",
           "launcher.pages.troubleshoot", "launcher.engine.process", "launcher.engine.diagnosis"]


def test_no_torch_diffusers_or_engine_after_importing_every_launcher_module() -> None:
    code = (
        "import sys\n"
        f"for m in {MODULES!r}: __import__(m)\n"
        "bad = [m for m in ('torch', 'diffusers', 'transformers', 'engine') if m in sys.modules]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(launcher.__file__).resolve().parents[1])
    assert out.returncode == 0, out.stdout + out.stderr
