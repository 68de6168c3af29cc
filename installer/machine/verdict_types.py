"""The vocabulary of the machine check: verdicts, findings, thresholds and size helpers.

The thresholds are the ones users are told: 6 GB VRAM to generate on the GPU, 16 GB RAM, 20 GB
free disk, and the 秋叶 launcher's VRAM presets (12 GB+ high, 8 GB medium for SDXL only, 4 GB+
medium, under 4 GB low). Sizes are GiB, shown as "GB" as Windows does. Hardware reports a little
less than its label (a 24 GB card gives 23.99 GiB, a 16 GB PC 15.6 GiB), so each size threshold
allows a small shortfall: VRAM 256 MiB, RAM 1 GiB.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from installer.contract import VramMode
from installer.machine import i18n

GIB = 1024**3
MIB = 1024**2
VRAM_MIN_GB = 6
VRAM_HIGH_GB = 12
VRAM_SDXL_MEDIUM_GB = 8
VRAM_MEDIUM_GB = 4
VRAM_SLACK = 256 * MIB
RAM_MIN_GB = 16
RAM_BLOCKER_GB = 4
RAM_SLACK = 1 * GIB
DISK_MIN_GB = 20
DISK_BLOCKER_GB = 5
HOME_PATH_MAX = 80  # characters; A1111 output names add ~150 more, Windows stops at 260


class Verdict(enum.Enum):
    OK = "ok"
    WARNING = "warning"
    BLOCKER = "blocker"


@dataclass(frozen=True)
class Finding:
    """One line of the check. ``key`` names its text in :mod:`installer.machine.i18n`."""

    id: str
    verdict: Verdict
    key: str
    params: Mapping[str, object] = field(default_factory=dict)
    fix: str | None = None  # "enable-long-paths", "choose-port", "free-disk", ...

    def text(self, lang: str = "en") -> tuple[str, str, str]:
        """(title, reason, hint) in ``lang``; the hint is empty when there is nothing to do."""
        return i18n.finding_text(self.id, self.key, lang, self.params)


def gb(size: int) -> str:
    return f"{size / GIB:.1f} GB"


def at_least(size: int, gigabytes: float, slack: int = 0) -> bool:
    return size >= gigabytes * GIB - slack


def vram_mode(vram: int) -> tuple[VramMode, VramMode]:
    """(mode, mode for SDXL) for a card with ``vram`` bytes."""
    if at_least(vram, VRAM_HIGH_GB, VRAM_SLACK):
        return "high", "high"
    if at_least(vram, VRAM_SDXL_MEDIUM_GB, VRAM_SLACK):
        return "high", "medium"
    if at_least(vram, VRAM_MEDIUM_GB, VRAM_SLACK):
        return "medium", "medium"
    return "low", "low"
