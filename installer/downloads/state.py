"""The ``<name>.part`` file and the small JSON state beside it, so a download survives a crash.

The state records where the bytes come from (URL and validator for ``If-Range``), the expected size
and sha256, and which pieces are done. The ``.part`` file holds the bytes. A state that cannot be
read is treated as absent: the download then starts over, it never trusts bytes it cannot place.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from installer.settings import write_atomic

log = logging.getLogger(__name__)

STATE_VERSION = 1


def part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def state_path(target: Path) -> Path:
    return target.with_name(target.name + ".part.json")


def lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".part.lock")


@dataclass
class PartState:
    """What is known about a partial download. ``pieces`` maps piece index -> bytes done in it."""

    url: str
    source: str
    size: int | None = None
    sha256: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    piece_size: int = 0
    pieces: dict[int, int] = field(default_factory=dict)
    version: int = STATE_VERSION

    @property
    def validator(self) -> str | None:
        """The ``If-Range`` value: a strong ETag, else Last-Modified."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified

    def done_bytes(self) -> int:
        return sum(self.pieces.values())


def load_state(target: Path) -> PartState | None:
    path = state_path(target)
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw["pieces"] = {int(k): int(v) for k, v in raw.get("pieces", {}).items()}
        state = PartState(**raw)
    except (OSError, ValueError, TypeError) as exc:
        log.warning("Ignoring unreadable download state %s: %s", path, exc)
        return None
    return state if state.version == STATE_VERSION else None


def save_state(target: Path, state: PartState) -> None:
    data = asdict(state)
    data["pieces"] = {str(k): v for k, v in sorted(state.pieces.items())}
    write_atomic(state_path(target), json.dumps(data, indent=1) + "\n")


def discard(target: Path) -> None:
    """Remove the ``.part`` and its state (after success, a mismatch, or an explicit discard)."""
    for path in (part_path(target), state_path(target)):
        path.unlink(missing_ok=True)
