"""Reading the engine's console: a failed start-up, the engine's own stop lines, each line's level.

That the engine can serve is not read here: it prints one machine-readable line for that
(:func:`installer.contract.read_ready_line`).
"""

from __future__ import annotations

import re
from enum import Enum

STARTUP_FAILED_RE = re.compile(r"start-?up failed", re.IGNORECASE)
# the engine's own lines as it leaves: "Stopping the engine...", "Stopping the engine (signal 2)...", "Engine stopped."
STOP_NOTICE_RE = re.compile(r"(Stopping the engine( \(signal \d+\))?\.\.\.|Engine stopped\.)\s*$")


class Level(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    SUCCESS = "success"


_ERROR_RE = re.compile(
    r"\b(ERROR|CRITICAL|FATAL|Traceback|Exception|Error:)|^\s+File \"|^\w+Error\b", re.IGNORECASE
)
_WARN_RE = re.compile(r"\bWARN(ING)?\b", re.IGNORECASE)


_ERROR_HINTS = ("error", "traceback", "exception", "fatal", "critical", 'file "')


def startup_failed(line: str) -> bool:
    """The engine says it cannot serve (it keeps running so its page can explain; Maple stops it)."""
    return bool(STARTUP_FAILED_RE.search(line))


def stop_notice(line: str) -> bool:
    """One of the engine's own lines saying it is stopping or has stopped (the launcher says these itself)."""
    return "topp" in line and bool(STOP_NOTICE_RE.search(line))


def level_of(line: str) -> Level:
    """The line's level; most lines are ordinary, so plain substring tests come before any regex."""
    if line.startswith(("Startup time:", "Running on local URL:")):
        return Level.SUCCESS
    low = line.lower()
    if any(hint in low for hint in _ERROR_HINTS) and _ERROR_RE.search(line):
        return Level.ERROR
    if "warn" in low and _WARN_RE.search(line):
        return Level.WARNING
    return Level.INFO
