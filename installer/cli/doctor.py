"""``maple-doctor``: check this machine for Maple, print a table or JSON, enable Windows long paths.

Exit status: 0 when nothing blocks Maple, 1 when a blocker was found (or enabling long paths
failed), 2 for a usage error. An engine started with the ``api_auth`` of settings.json asks for
that ``user:password``; the check sends it when it asks an engine who it is.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from installer.contract import DEFAULT_PORT
from installer.home import resolve_home
from installer.machine import i18n, longpaths
from installer.machine.longpaths import EnableResult
from installer.machine.report import Probes, check
from installer.machine.result import MachineReport
from installer.machine.verdicts import Finding

log = logging.getLogger(__name__)

MARKS = {"ok": "✓", "warning": "!", "blocker": "✗"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maple-doctor", description="Check this machine for running Maple.")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, help="language of the report (default: the system's)")
    parser.add_argument("--home", help="the data folder to check (default: MAPLE_HOME, portable or the user's)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the engine port to check (default {DEFAULT_PORT})")
    parser.add_argument("--enable-long-paths", action="store_true", help="turn on Windows long path support")
    return parser


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def render_table(report: MachineReport, lang: str) -> str:
    rows = [(f, *f.text(lang)) for f in report.findings]
    title_w = max(width(title) for _, title, _, _ in rows)
    verdict_w = max(width(i18n.text(f"ui.verdict.{f.verdict.value}", lang)) for f in report.findings)
    lines = [i18n.text("ui.header", lang, {"home": report.facts.home}), ""]
    for finding, title, reason, hint in rows:
        lines.append(_row(finding, title, reason, title_w, verdict_w, lang))
        if hint:
            lines.append(" " * (title_w + verdict_w + 6) + i18n.text('ui.fix', lang) + hint)
    lines += ["", _recommendation(report, lang), "", _summary(report, lang)]
    return "\n".join(lines)


def _row(finding: Finding, title: str, reason: str, title_w: int, verdict_w: int, lang: str) -> str:
    verdict = finding.verdict.value
    label = pad(i18n.text(f"ui.verdict.{verdict}", lang), verdict_w)
    return f"{MARKS[verdict]} {label}  {pad(title, title_w)}  {reason}"


def _recommendation(report: MachineReport, lang: str) -> str:
    rec = report.recommendation
    args = " ".join(rec.engine_args())
    return f"{i18n.text('ui.recommended', lang)}{args}\n  {rec.note_text(lang)}"


def _summary(report: MachineReport, lang: str) -> str:
    if report.blockers:
        return i18n.text("ui.summary.blockers", lang, {"n": len(report.blockers)})
    if report.warnings:
        return i18n.text("ui.summary.warnings", lang, {"n": len(report.warnings)})
    return i18n.text("ui.summary.ok", lang)


def _saved(settings_file: Path, key: str) -> object:
    """One value of settings.json, read without loading the settings model; None when absent."""
    try:
        data = json.loads(settings_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get(key) if isinstance(data, dict) else None


def settings_language(settings_file: Path) -> str | None:
    """The language saved in settings.json."""
    value = _saved(settings_file, "language")
    return value if isinstance(value, str) and value in i18n.LANGUAGES else None


def settings_auth(settings_file: Path) -> str:
    """The ``user:password`` saved for ``--api-auth`` (the engine asks for it when set); "" for none."""
    value = _saved(settings_file, "api_auth")
    return value if isinstance(value, str) else ""


def enable_long_paths(enable: Callable[[], EnableResult], as_json: bool, lang: str, out: TextIO) -> int:
    result = enable()
    message = i18n.text(f"lp.{result.outcome.value}", lang, {"detail": result.detail})
    if as_json:
        data = {"long_paths": result.outcome.value, "ok": result.ok, "changed": result.changed, "message": message}
        out.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(message + "\n")
    return 0 if result.ok else 1


def _utf8_safe(stream: TextIO) -> None:
    """A console that cannot show 中文 or ✓ gets replacement characters instead of a crash."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


def main(
    argv: list[str] | None = None,
    *,
    probes: Probes | None = None,
    enable: Callable[[], EnableResult] = longpaths.enable_long_paths,
) -> int:
    """Run the check (or the long-path fix); ``probes`` and ``enable`` are replaced by tests."""
    args = build_parser().parse_args(argv)
    out = sys.stdout
    _utf8_safe(out)
    home = resolve_home(args.home)
    lang = args.lang or settings_language(home.settings_file) or i18n.detect_language()
    if args.enable_long_paths:
        return enable_long_paths(enable, args.json, lang, out)
    report = check(home, probes=probes, port=args.port, auth=settings_auth(home.settings_file))
    if args.json:
        out.write(json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(render_table(report, lang) + "\n")
    return 1 if report.blockers else 0


if __name__ == "__main__":
    sys.exit(main())
