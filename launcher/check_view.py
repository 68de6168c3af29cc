"""The machine check as the launcher shows it: rows of (verdict, title, reason, hint, fix)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

VERDICT_ORDER = {"blocker": 0, "warning": 1, "ok": 2}


@dataclass(frozen=True)
class Row:
    id: str
    verdict: str  # ok / warning / blocker
    title: str
    reason: str
    hint: str
    fix: str | None


def run_check(home: Path, port: int, auth: str = "") -> Any:
    """Run the machine check (in a worker: it probes the GPU, disks and ports). ``auth``: the settings'
    ``api_auth``, so an engine of this Maple that asks for it is recognised on its port."""
    from installer.machine.report import check

    return check(home, port=port, auth=auth)


def rows(report: Any, lang: str) -> list[Row]:
    out = []
    for finding in report.findings:
        title, reason, hint = finding.text(lang)
        verdict = getattr(finding.verdict, "value", str(finding.verdict))
        out.append(Row(finding.id, verdict, title, reason, hint, finding.fix))
    return out


def worst(report: Any) -> str:
    found = [r.verdict for r in rows(report, "en")]
    return min(found, key=lambda v: VERDICT_ORDER.get(v, 3)) if found else "ok"


def check_args(report: Any) -> list[str]:
    try:
        return list(report.engine_args())
    except (AttributeError, TypeError):
        return []
