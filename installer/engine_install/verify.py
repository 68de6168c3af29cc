"""The check in a child process: the staged packages import, and on NVIDIA they reach the card.

The child puts only the staging folder in front of its path, imports torch and diffusers, and
answers in one JSON line. torch must come from the staging folder itself (not an older one
elsewhere on the path), and on NVIDIA ``torch.cuda.is_available()`` must be true and
``torch.cuda.get_arch_list()`` must hold code that runs on the card (see :mod:`arch`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.engine_install.arch import arch_list_runs_on, capability_text
from installer.engine_install.builds import Capability
from installer.engine_install.errors import VerifyFailedError

SCRIPT = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
out = {}
try:
    import torch
    out["torch"] = str(torch.__version__)
    out["torch_file"] = os.path.abspath(torch.__file__)
    out["cuda_build"] = getattr(torch.version, "cuda", None)
    import diffusers
    out["diffusers"] = str(diffusers.__version__)
    if sys.argv[2] == "cuda":
        out["cuda"] = bool(torch.cuda.is_available())
        if out["cuda"]:
            out["arch_list"] = list(torch.cuda.get_arch_list())
            out["device"] = str(torch.cuda.get_device_name(0))
except BaseException as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
print("MAPLE-VERIFY " + json.dumps(out))
"""


@dataclass(frozen=True)
class Verified:
    torch: str
    diffusers: str
    cuda: bool
    arch_list: tuple[str, ...] = ()
    device: str = ""


def _answer(output: str) -> dict[str, Any]:
    for line in reversed(output.splitlines()):
        if line.startswith("MAPLE-VERIFY "):
            data = json.loads(line[len("MAPLE-VERIFY "):])
            return data if isinstance(data, dict) else {}
    return {}


def run_check(staging: Path, cuda: bool, python: str = sys.executable, timeout: float = 600) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PYTHONIOENCODING"] = "utf-8"
    try:
        done = subprocess.run([python, "-s", "-c", SCRIPT, str(staging), "cuda" if cuda else "cpu"],
                              capture_output=True, text=True, encoding="utf-8", errors="replace", env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise VerifyFailedError(f"Checking the new engine took more than {timeout:.0f} s.") from exc
    answer = _answer(done.stdout)
    if not answer:
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        raise VerifyFailedError("The check of the new engine did not answer: " + " / ".join(tail))
    return answer


def judge(answer: dict[str, Any], staging: Path, card: Capability | None, cuda: bool) -> Verified:
    """Raise VerifyFailedError naming what is wrong; else what was verified."""
    if "error" in answer:
        raise VerifyFailedError(f"The new engine does not import: {answer['error']}")
    inside = Path(str(answer.get("torch_file", ""))).resolve()
    if staging.resolve() not in inside.parents:
        raise VerifyFailedError(f"torch was imported from {inside}, not from the new packages.")
    if cuda and not answer.get("cuda"):
        raise VerifyFailedError(f"torch {answer.get('torch')} was installed but cannot use the NVIDIA GPU "
                                "(torch.cuda.is_available() is False).",
                                "Update the NVIDIA driver, then install again; the engine that was there before is unchanged.")
    arch_list = tuple(answer.get("arch_list") or ())
    if cuda and card is not None and not arch_list_runs_on(arch_list, card):
        raise VerifyFailedError(f"torch {answer.get('torch')} has no code for this card ({capability_text(card)}): "
                                f"it was built for {' '.join(arch_list) or 'no architecture'}.")
    return Verified(str(answer.get("torch")), str(answer.get("diffusers")), bool(answer.get("cuda")), arch_list,
                    str(answer.get("device", "")))


def verify(staging: Path, card: Capability | None, cuda: bool, python: str = sys.executable) -> Verified:
    return judge(run_check(staging, cuda, python), staging, card, cuda)
