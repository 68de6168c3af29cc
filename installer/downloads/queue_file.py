"""The download queue on disk (``cache/downloads.json``), so unfinished jobs survive a restart.

Each entry is a spec (sources, folder, name, size, sha256, kind, ...). The bytes themselves stay in
each job's ``.part`` beside its target; this file only remembers which downloads to show again.
A file that cannot be read is ignored (logged): the ``.part`` files are still resumed when the same
model is added again.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from installer.downloads.spec import DownloadSpec
from installer.errors import MapleError
from installer.settings import write_atomic

log = logging.getLogger(__name__)

QUEUE_FILE = "downloads.json"
QUEUE_VERSION = 1


def queue_path(cache_dir: Path) -> Path:
    return cache_dir / QUEUE_FILE


def spec_to_dict(spec: DownloadSpec) -> dict[str, Any]:
    return {
        "sources": [[name, url] for name, url in spec.sources],
        "dest_dir": str(spec.dest_dir),
        "filename": spec.filename,
        "size": spec.size,
        "sha256": spec.sha256,
        "kind": spec.kind,
        "base_model": spec.base_model,
        "extra": spec.extra,
    }


def spec_from_dict(raw: dict[str, Any]) -> DownloadSpec:
    return DownloadSpec(
        sources=[(str(name), str(url)) for name, url in raw["sources"]],
        dest_dir=Path(raw["dest_dir"]),
        filename=str(raw["filename"]),
        size=int(raw["size"]) if raw.get("size") is not None else None,
        sha256=raw.get("sha256"),
        kind=str(raw.get("kind") or "checkpoint"),
        base_model=raw.get("base_model"),
        extra=dict(raw.get("extra") or {}),
    )


def save_queue(path: Path, specs: list[DownloadSpec]) -> None:
    data = {"version": QUEUE_VERSION, "jobs": [spec_to_dict(s) for s in specs]}
    try:
        write_atomic(path, json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n")
    except OSError as exc:  # the queue still works; only the memory of it across restarts is lost
        log.warning("Could not save the download queue to %s: %s", path, exc)


def load_queue(path: Path) -> list[DownloadSpec]:
    """The saved specs; an absent or unreadable file gives none (and a log line)."""
    if not path.exists():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != QUEUE_VERSION:
            raise ValueError(f"version {raw.get('version')!r}")
        return [spec_from_dict(item) for item in raw["jobs"]]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, MapleError) as exc:
        log.warning("Ignoring the unreadable download queue %s: %s", path, exc)
        return []
