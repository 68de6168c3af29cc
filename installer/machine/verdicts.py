"""Judge the machine: the findings of the check and the engine settings recommended for it.

The vocabulary (:class:`Verdict`, :class:`Finding`, thresholds) lives in
:mod:`installer.machine.verdict_types`, one rule per finding in :mod:`installer.machine.verdict_rules`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from installer.contract import Device, Precision, VramMode
from installer.machine import i18n
from installer.machine import verdict_rules as rules
from installer.machine.probes import MachineFacts
from installer.machine.verdict_types import Finding, Verdict, vram_mode

__all__ = ["Finding", "Recommendation", "Verdict", "judge", "recommend"]

# GTX 16xx cards give NaN (black) images at fp16; A1111 users run them at full precision.
FP16_BROKEN = re.compile(r"GTX 16\d\d")


def judge(facts: MachineFacts) -> list[Finding]:
    return [
        rules.gpu(facts),
        rules.torch(facts),
        rules.ram(facts),
        rules.disk(facts),
        rules.cpu(facts),
        rules.python(facts),
        rules.long_paths(facts),
        rules.home_length(facts),
        rules.home_ascii(facts),
        rules.port(facts),
    ]


@dataclass(frozen=True)
class Recommendation:
    """How to start the engine here. ``vram_mode_sdxl`` differs on 8-12 GB cards (the 秋叶 rule)."""

    device: Device  # "cuda", "mps" or "cpu"
    precision: Precision  # "fp16" or "fp32"
    vram_mode: VramMode  # "high", "medium" or "low"
    vram_mode_sdxl: VramMode
    note_key: str
    note_params: Mapping[str, object] = field(default_factory=dict)

    @property
    def note(self) -> str:
        return self.note_text("en")

    def note_text(self, lang: str = "en") -> str:
        return i18n.text(self.note_key, lang, self.note_params)

    def vram_mode_for(self, arch: str | None = None) -> VramMode:
        """The mode for a model architecture id ("sd1", "sdxl", ...); SDXL may need less VRAM use."""
        return self.vram_mode_sdxl if arch and arch.startswith("sdxl") else self.vram_mode

    def engine_args(self, arch: str | None = None) -> list[str]:
        """The engine's flags; no VRAM mode on the CPU, which has no VRAM."""
        vram = [] if self.device == "cpu" else ["--vram-mode", self.vram_mode_for(arch)]
        return ["--device", self.device, "--precision", self.precision, *vram]


def recommend(facts: MachineFacts) -> Recommendation:
    nvml, torch = facts.nvml, facts.torch
    if nvml.status == "ok" and torch.build not in ("cpu", "rocm"):
        return _for_gpu(facts)
    if rules.is_apple_silicon(facts):
        return Recommendation("mps", "fp16", "high", "high", "rec.mps")
    key = "rec.cpu-torch" if nvml.status == "ok" else "rec.cpu"
    return Recommendation("cpu", "fp32", "high", "high", key, {"cores": facts.cpu.threads or "?"})


def _for_gpu(facts: MachineFacts) -> Recommendation:
    first = facts.nvml.gpus[0]
    mode, mode_sdxl = vram_mode(first.vram_total)
    params = {"name": first.name, "mode": mode, "mode_sdxl": mode_sdxl, "count": len(facts.nvml.gpus)}
    if FP16_BROKEN.search(first.name):
        return Recommendation("cuda", "fp32", mode, mode_sdxl, "rec.gpu-fp32", params)
    key = "rec.gpu-sdxl-medium" if mode != mode_sdxl else "rec.gpu"
    if len(facts.nvml.gpus) > 1:
        key = "rec.gpu-many"
    return Recommendation("cuda", "fp16", mode, mode_sdxl, key, params)
