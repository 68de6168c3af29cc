"""What the launcher, the engine and the command-line tools agree on, defined once.

The engine's default port, the device / precision / VRAM-mode choices its flags and the settings
accept, and the one machine-readable line the engine prints when it can serve (``ready_line``), which
the launcher reads instead of the human ``Startup time:`` line. Plain Python: the launcher and the
engine both import it (the launcher never imports the engine).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, get_args

DEFAULT_PORT = 7860
# The built-in shapes model's file name in the checkpoint folder (engine.models.builtin ships it).
BUILTIN_MODEL_FILENAME = "maple-shapes.safetensors"

Device = Literal["auto", "cuda", "mps", "cpu"]
Precision = Literal["auto", "fp16", "bf16", "fp32"]
VramMode = Literal["auto", "high", "medium", "low"]  # "medium"/"low" are A1111's --medvram/--lowvram

DEVICES: tuple[Device, ...] = get_args(Device)
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
VRAM_MODES: tuple[VramMode, ...] = get_args(VramMode)

READY_PREFIX = "maple-engine-ready "


@dataclass(frozen=True)
class EngineReady:
    """The engine can serve generation requests at ``url``; it took ``startup_time`` seconds to get there."""

    url: str
    startup_time: float


def ready_line(ready: EngineReady) -> str:
    """``maple-engine-ready {"url": ..., "startup_time": ...}``: one line, JSON after a fixed prefix."""
    return READY_PREFIX + json.dumps({"url": ready.url, "startup_time": round(ready.startup_time, 3)})


def is_ready_line(line: str) -> bool:
    """A cheap test for console readers that hide the line (most lines are not it)."""
    return line.startswith(READY_PREFIX)


def read_ready_line(line: str) -> EngineReady | None:
    """The readiness a line announces, or None for every other line (and for a garbled one)."""
    if not is_ready_line(line):
        return None
    try:
        data = json.loads(line[len(READY_PREFIX):])
        url, seconds = data["url"], data["startup_time"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or not isinstance(seconds, (int, float)):
        return None
    return EngineReady(url.rstrip("/"), float(seconds))
