"""Windows long paths: read ``LongPathsEnabled`` and turn it on through an elevated helper.

Windows limits paths to 260 characters unless ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\FileSystem``
has ``LongPathsEnabled = 1``. Writing it needs administrator rights, so Maple asks for elevation
(the UAC prompt) and runs ``reg add`` there. The registry and the elevation are small protocols so
tests run the same Windows code on any platform with fakes. Elsewhere the fix is "not needed".
"""

from __future__ import annotations

import enum
import logging
import sys
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

KEY = r"SYSTEM\CurrentControlSet\Control\FileSystem"
VALUE = "LongPathsEnabled"
ACCESS_DENIED = 5  # ERROR_ACCESS_DENIED, as a helper reports it (reg.exe itself exits 1 on any error)
REG_ADD = ("reg", "add", rf"HKLM\{KEY}", "/v", VALUE, "/t", "REG_DWORD", "/d", "1", "/f")


class Registry(Protocol):
    def read_dword(self, key: str, name: str) -> int | None:
        """The value under HKLM, None when absent. May raise PermissionError."""

    def write_dword(self, key: str, name: str, value: int) -> None:
        """Write under HKLM. Raises PermissionError without administrator rights."""


class Elevation(Protocol):
    def is_admin(self) -> bool: ...

    def run_elevated(self, argv: tuple[str, ...]) -> int | None:
        """Run ``argv`` as administrator after the UAC prompt: its exit code, None if declined."""


class LongPaths(enum.Enum):
    NOT_NEEDED = "not-needed"  # not Windows
    ENABLED = "enabled"
    DISABLED = "disabled"
    UNKNOWN = "unknown"  # the registry could not be read


class Outcome(enum.Enum):
    NOT_NEEDED = "not-needed"
    ALREADY = "already-enabled"
    ENABLED = "enabled"
    DECLINED = "declined"  # the UAC prompt was refused: nothing changed
    DENIED = "denied"  # no right to write the value: nothing changed
    FAILED = "failed"


@dataclass(frozen=True)
class EnableResult:
    outcome: Outcome
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.NOT_NEEDED, Outcome.ALREADY, Outcome.ENABLED)

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.ENABLED


def _windows_layers() -> tuple[Registry, Elevation]:
    from installer.machine.longpaths_win import WinElevation, WinRegistry

    return WinRegistry(), WinElevation()


def long_paths_state(platform: str | None = None, registry: Registry | None = None) -> LongPaths:
    """Whether long paths are on; NOT_NEEDED off Windows."""
    if (platform or sys.platform) != "win32":
        return LongPaths.NOT_NEEDED
    registry = registry or _windows_layers()[0]
    try:
        value = registry.read_dword(KEY, VALUE)
    except OSError as exc:
        log.warning("Cannot read %s: %s", VALUE, exc)
        return LongPaths.UNKNOWN
    return LongPaths.ENABLED if value == 1 else LongPaths.DISABLED


def enable_long_paths(
    platform: str | None = None, registry: Registry | None = None, elevation: Elevation | None = None
) -> EnableResult:
    """Turn long paths on, asking for elevation if needed. A refusal changes nothing."""
    state = long_paths_state(platform, registry)
    if state is LongPaths.NOT_NEEDED:
        return EnableResult(Outcome.NOT_NEEDED)
    if state is LongPaths.ENABLED:
        return EnableResult(Outcome.ALREADY)
    if registry is None or elevation is None:
        win_registry, win_elevation = _windows_layers()
        registry, elevation = registry or win_registry, elevation or win_elevation
    result = _write(registry, elevation)
    log.info("Enabling long paths: %s %s", result.outcome.value, result.detail)
    return result


def _write(registry: Registry, elevation: Elevation) -> EnableResult:
    if elevation.is_admin():
        return _write_as_admin(registry)
    return _write_elevated(registry, elevation)


def _write_as_admin(registry: Registry) -> EnableResult:
    try:
        registry.write_dword(KEY, VALUE, 1)
    except PermissionError as exc:
        return EnableResult(Outcome.DENIED, str(exc))
    except OSError as exc:
        return EnableResult(Outcome.FAILED, str(exc))
    return _verify(registry)


def _write_elevated(registry: Registry, elevation: Elevation) -> EnableResult:
    """Run ``reg add`` behind the UAC prompt; "No" there (None) changes nothing."""
    try:
        code = elevation.run_elevated(REG_ADD)
    except OSError as exc:
        return EnableResult(Outcome.FAILED, str(exc))
    if code is None:
        return EnableResult(Outcome.DECLINED)
    if code != 0:
        outcome = Outcome.DENIED if code == ACCESS_DENIED else Outcome.FAILED
        return EnableResult(outcome, f"reg add exited with {code}")
    return _verify(registry)


def _verify(registry: Registry) -> EnableResult:
    """Read the value back: only a value that is really 1 counts as enabled."""
    if long_paths_state("win32", registry) is LongPaths.ENABLED:
        return EnableResult(Outcome.ENABLED)
    return EnableResult(Outcome.FAILED, f"{VALUE} is still not 1 after writing it")
