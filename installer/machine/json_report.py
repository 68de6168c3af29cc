"""The machine report as plain JSON data: what ``maple-doctor --json`` prints and the launcher reads."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from installer.machine.verdicts import Finding

if TYPE_CHECKING:
    from installer.machine.report import MachineReport

REPORT_VERSION = 1


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
