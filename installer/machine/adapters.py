"""Every display adapter, whatever its maker: so an AMD or Intel GPU is named, not ignored.

NVML sees NVIDIA cards only. Windows lists all adapters under the display class key of the
registry (``DriverDesc`` per adapter); Linux under ``/sys/class/drm/card*/device/vendor``. Both
sources are small protocols so tests hand in fixed machines. Nothing here raises.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DISPLAY_CLASS = r"SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}"
VENDOR_IDS = {0x10DE: "nvidia", 0x1002: "amd", 0x1022: "amd", 0x8086: "intel"}
NAME_HINTS = (("nvidia", "nvidia"), ("geforce", "nvidia"), ("quadro", "nvidia"), ("amd", "amd"),
              ("radeon", "amd"), ("intel", "intel"))
LABELS = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel"}
SKIP = ("microsoft basic", "remote display", "virtual", "parsec", "citrix")


@dataclass(frozen=True)
class Adapter:
    name: str
    vendor: str  # "nvidia", "amd", "intel" or "other"


def vendor_of(name: str, vendor_id: int | None = None) -> str:
    if vendor_id in VENDOR_IDS:
        return VENDOR_IDS[vendor_id]
    lowered = name.lower()
    return next((vendor for hint, vendor in NAME_HINTS if hint in lowered), "other")


def windows_adapters(subkeys: Callable[[str], Iterable[str]], value: Callable[[str, str], str | None]) -> list[Adapter]:
    """From the display class key: one subkey per adapter ("0000", "0001", ...) with ``DriverDesc``."""
    found = []
    for sub in subkeys(DISPLAY_CLASS):
        if not sub.isdigit():
            continue
        name = value(rf"{DISPLAY_CLASS}\{sub}", "DriverDesc")
        if name and not any(s in name.lower() for s in SKIP):
            found.append(Adapter(name, vendor_of(name)))
    return found


def linux_adapters(drm: Path = Path("/sys/class/drm")) -> list[Adapter]:
    found = []
    for card in sorted(drm.glob("card[0-9]*")):
        if "-" in card.name:  # card0-HDMI-A-1 and friends are connectors, not adapters
            continue
        try:
            vendor_id = int((card / "device" / "vendor").read_text().strip(), 16)
            device_id = (card / "device" / "device").read_text().strip()
        except (OSError, ValueError):
            continue
        vendor = vendor_of("", vendor_id)
        found.append(Adapter(f"{LABELS.get(vendor, 'Unknown')} GPU (PCI {vendor_id:04x}:{device_id[2:]})", vendor))
    return found


def _win_registry() -> tuple[Callable[[str], list[str]], Callable[[str, str], str | None]]:
    import importlib

    winreg: Any = importlib.import_module("winreg")

    def subkeys(key: str) -> list[str]:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
            return [winreg.EnumKey(handle, i) for i in range(winreg.QueryInfoKey(handle)[0])]

    def value(key: str, name: str) -> str | None:
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
                return str(winreg.QueryValueEx(handle, name)[0])
        except OSError:
            return None

    return subkeys, value


def probe_adapters(platform: str | None = None) -> tuple[Adapter, ...]:
    """This machine's display adapters; empty when they cannot be listed."""
    platform = platform or sys.platform
    try:
        if platform == "win32":
            return tuple(windows_adapters(*_win_registry()))
        if platform.startswith("linux"):
            return tuple(linux_adapters())
    except OSError as exc:
        log.info("display adapters not readable: %s", exc)
    return ()
