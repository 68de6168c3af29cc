"""Recognise the errors users meet in the engine's console, and pack a diagnostic bundle.

The advice is English source text; the window shows it through ``tr`` and the terminal through the
same translation table. No Qt here.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import sys
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.store.problems import SENTENCES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Diagnosis:
    code: str
    title: str
    advice: str
    line: str = ""  # the console line that matched
    detail: str = ""  # e.g. the missing module's name


@dataclass(frozen=True)
class _Rule:
    code: str
    pattern: re.Pattern[str]
    title: str
    advice: str


def _rule(code: str, pattern: str, title: str, advice: str) -> _Rule:
    return _Rule(code, re.compile(pattern, re.IGNORECASE), title, advice)


RULES: tuple[_Rule, ...] = (
    _rule(
        "out-of-memory",
        r"CUDA out of memory|OutOfMemoryError|out-of-memory|MPS backend out of memory",
        "The GPU ran out of memory",
        "Make the image or the batch smaller, or set the VRAM mode to medium or low in Settings, then start the engine again.",
    ),
    _rule(
        "missing-config",
        r"Can't load tokenizer|tokenizer[^\n]*(not found|missing)|config\.json[^\n]*(not found|missing|no such file)|Can't load (the )?config",
        "A model configuration or tokenizer file is missing",
        "Maple loads models with the configs in its assets folder and never the internet. Run the set-up again to restore them, and verify the model on the Models page.",
    ),
    _rule(
        "missing-module",
        r"ModuleNotFoundError: No module named '?(?P<detail>[\w.]+)'?",
        "A Python package is missing",
        "Run the set-up again (run.sh or run.bat) so it installs the missing package, then start the engine again.",
    ),
    _rule(
        "port-in-use",
        r"address already in use|Errno 98|WinError 10048|Errno 10048|Cannot find empty port|port \d+ is (already )?in use",
        "The port is already in use",
        "Another program uses the port. Choose another port in Settings, or let Maple pick a free one.",
    ),
    _rule(
        "nan-image",
        r"NaNs? (was |were )?(produced|detected|in )|produced NaN|black image|contains NaN|nan values",
        "The image came out black (NaN values)",
        "Set the precision to fp32 in Settings, or use a VAE that works in fp16.",
    ),
    _rule(
        "unusable-model",
        r"(?:(?:Could not load|Not listing) (?P<detail>.+?): )?(?:" + "|".join(re.escape(t["en"]) for t in SENTENCES.values()) + ")",
        "A model file cannot be used",
        "The Models page lists it with the reason in plain words: remove it, or download it again.",
    ),
    _rule(
        "broken-model",
        r"MetadataIncompleteBuffer|HeaderTooLarge|model-broken|incomplete metadata",
        "A model file is incomplete or is not a model",
        "Verify it on the Models page, remove it and download it again.",
    ),
    _rule(
        "no-model",
        r"No checkpoint could be loaded",
        "No model could be loaded",
        "Verify the checkpoints on the Models page and remove the broken ones; with no checkpoint at all Maple starts with its demo model.",
    ),
    _rule(
        "no-gpu",
        r"Torch is not able to use GPU|Torch not compiled with CUDA|no CUDA GPUs are available|Found no NVIDIA driver",
        "torch cannot use the GPU",
        "Set the device to CPU in Settings, or install the NVIDIA driver and run the set-up again.",
    ),
)


def diagnose_line(line: str) -> Diagnosis | None:
    for rule in RULES:
        match = rule.pattern.search(line)
        if match:
            detail = match.groupdict().get("detail") or ""
            return Diagnosis(rule.code, rule.title, rule.advice, line.strip(), detail)
    return None


def diagnose(lines: Iterable[str]) -> list[Diagnosis]:
    """Every kind of known problem in ``lines``, once each, latest occurrence kept, in first-seen order."""
    found: dict[str, Diagnosis] = {}
    for line in lines:
        hit = diagnose_line(line)
        if hit is not None:
            found[hit.code] = hit
    return list(found.values())


def bundle_name(now: float | None = None) -> str:
    return time.strftime("maple-diagnostics-%Y%m%d-%H%M%S.zip", time.localtime(now))


def write_bundle(
    target: Path,
    *,
    settings_public: dict[str, Any],
    check: dict[str, Any] | None,
    console_lines: Sequence[str],
    logs_dir: Path | None = None,
    max_log_bytes: int = 5_000_000,
) -> Path:
    """A zip with the console, the log files, the settings without secrets and the machine check."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("settings.json", json.dumps(settings_public, indent=2, ensure_ascii=False))
        zf.writestr("check.json", json.dumps(check or {}, indent=2, ensure_ascii=False, default=str))
        zf.writestr("console.log", "\n".join(console_lines) + "\n")
        zf.writestr("system.json", json.dumps(_system(), indent=2))
        for path in _log_files(logs_dir):
            data = path.read_bytes()[-max_log_bytes:]
            zf.writestr(f"logs/{path.name}", data)
    log.info("diagnostic bundle written to %s", target)
    return target


def _log_files(logs_dir: Path | None) -> list[Path]:
    if logs_dir is None or not logs_dir.is_dir():
        return []
    return sorted(p for p in logs_dir.iterdir() if p.is_file())


def _system() -> dict[str, str]:
    return {
        "python": sys.version,
        "platform": platform.platform(),
        "machine": platform.machine(),
    }
