"""How Maple writes a model file's figures, the same in the CLI, the launcher and the engine installer.

Sizes of files and downloads are decimal (1 GB = 10^9 bytes), as model sites and package indexes
list them, so a size here matches the one on the page the file came from. (The machine check's
RAM and VRAM stay in the binary units cards and operating systems label them with: a "12 GB" card
has 12 GiB.) A model's short hash is A1111's: the LoRA hash of a LoRA, the first ten hex digits of
the sha256 for the rest. Architectures go by the names users know; "unknown" is shown as "?".
"""

from __future__ import annotations

from typing import Protocol

UNITS = ("B", "KB", "MB", "GB", "TB")
UNKNOWN_MARK = "?"


def human_size(n: float | None) -> str:
    """``4265146304`` -> ``"4.3 GB"`` (decimal units); ``None`` -> ``"?"``."""
    if n is None:
        return UNKNOWN_MARK
    value = float(n)
    for unit in UNITS:
        if abs(value) < 1000 or unit == UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


class Hashed(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def sha256(self) -> str | None: ...

    @property
    def lora_hash(self) -> str | None: ...


def short_hash(entry: Hashed) -> str:
    """A1111's short hash of a model file: a LoRA's 12-hex LoRA hash, else sha256[:10]; "" when not hashed."""
    if entry.kind == "lora" and entry.lora_hash:
        return entry.lora_hash[:12]
    return entry.sha256[:10] if entry.sha256 else ""


def arch_name(arch: str | None) -> str:
    """The architecture's name users know ("SD1.x", "SDXL base"); "?" when the header does not tell."""
    from installer.store.modelfile import ARCH_NAMES

    if not arch or arch == "unknown":
        return UNKNOWN_MARK
    return ARCH_NAMES.get(arch, arch)


def kind_name(kind: str | None) -> str:
    """The kind as a list shows it; "?" when the header does not tell."""
    return UNKNOWN_MARK if not kind or kind == "unknown" else kind
