"""The machine check's result, and the same as plain JSON data (what ``maple-doctor --json`` prints
and the launcher's diagnostic bundle holds).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from installer.machine.probes import MachineFacts
from installer.machine.verdicts import Finding, Recommendation, Verdict

REPORT_VERSION = 1


@dataclass(frozen=True)
class MachineReport:
    facts: MachineFacts
    findings: list[Finding]
    recommendation: Recommendation

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict is Verdict.BLOCKER]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict is Verdict.WARNING]

    def finding(self, finding_id: str) -> Finding:
        return next(f for f in self.findings if f.id == finding_id)

    def engine_args(self, arch: str | None = None) -> list[str]:
        return self.recommendation.engine_args(arch)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return report_dict(self, lang)


def finding_dict(finding: Finding, lang: str) -> dict[str, Any]:
    title, reason, hint = finding.text(lang)
    return {
        "id": finding.id,
        "verdict": finding.verdict.value,
        "fix": finding.fix,
        "title": title,
        "reason": reason,
        "hint": hint,
    }


def report_dict(report: MachineReport, lang: str = "en") -> dict[str, Any]:
    rec = report.recommendation
    machine = asdict(report.facts)
    machine["long_paths"] = report.facts.long_paths.value
    return {
        "version": REPORT_VERSION,
        "lang": lang,
        "home": report.facts.home,
        "ok": not report.blockers,
        "blockers": len(report.blockers),
        "warnings": len(report.warnings),
        "findings": [finding_dict(f, lang) for f in report.findings],
        "recommendation": {
            "device": rec.device,
            "precision": rec.precision,
            "vram_mode": rec.vram_mode,
            "vram_mode_sdxl": rec.vram_mode_sdxl,
            "note": rec.note_text(lang),
            "engine_args": rec.engine_args(),
        },
        "machine": machine,
    }
