"""The engine's states as the window shows them, and what a crash reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from launcher.engine.diagnosis import Diagnosis


class EngineState(str, Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    CRASHED = "crashed"
    EXTERNAL = "external"  # a Maple engine that was already serving, used as is


@dataclass(frozen=True)
class CrashInfo:
    exit_code: int
    last_lines: list[str]
    diagnoses: list[Diagnosis] = field(default_factory=list)
    restarting: bool = False
    startup_failed: bool = False  # the engine said its start-up failed; Maple stopped it
