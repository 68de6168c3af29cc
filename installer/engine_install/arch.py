"""Does code built for these CUDA architectures run on this card? (NVIDIA's binary compatibility.)

A cubin built for compute capability X.y runs on any X.z with z >= y, never on another major
version; PTX (``compute_XY`` in ``torch.cuda.get_arch_list()``) is compiled by the driver for any
card of capability XY or newer. ``sm_90a``-style names carry features of exactly that card.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from installer.engine_install.builds import Capability, TorchBuild

_ARCH = re.compile(r"^(sm|compute)_(\d+?)(\d)([af]?)$")


def capability_text(cap: Capability) -> str:
    return f"sm_{cap[0]}{cap[1]}"


def parse_arch(name: str) -> tuple[str, Capability, str] | None:
    """"sm_86" -> ("sm", (8, 6), ""); "compute_120" -> ("compute", (12, 0), ""); None if not an arch."""
    match = _ARCH.match(name.strip().lower())
    if not match:
        return None
    kind, major, minor, suffix = match.groups()
    return kind, (int(major), int(minor)), suffix


def cubin_runs(built: Capability, card: Capability) -> bool:
    return built[0] == card[0] and built[1] <= card[1]


def runs_on(card: Capability, archs: Iterable[Capability], ptx: Capability | None = None) -> bool:
    """True when a build with cubins for ``archs`` (and PTX for ``ptx``) can run on ``card``."""
    return any(cubin_runs(a, card) for a in archs) or (ptx is not None and ptx <= card)


def build_runs_on(build: TorchBuild, card: Capability, platform: str) -> bool:
    ptx = build.ptx if any(platform.startswith(p) for p in build.ptx_platforms) else None
    return runs_on(card, build.archs, ptx)


def arch_list_runs_on(arch_list: Iterable[str], card: Capability) -> bool:
    """The same question for the names ``torch.cuda.get_arch_list()`` returns."""
    for name in arch_list:
        parsed = parse_arch(name)
        if parsed is None:
            continue
        kind, cap, suffix = parsed
        if kind == "compute" and cap <= card:
            return True
        if kind == "sm" and (cap == card if suffix else cubin_runs(cap, card)):
            return True
    return False
