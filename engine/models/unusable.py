"""Model files the engine cannot use, each with the plain sentence of its kind of breakage.

Two sources: files the store found broken on its last scan (truncated, a web page, a text file
named ``.safetensors``), and checkpoints whose load failed in this engine (remembered until the
file changes). A load error's own text (a library's exception, byte counts) goes to the log; the
error the API answers with says the plain sentence of :mod:`installer.store.problems` instead.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.errors import MapleError
from installer.store.model_store import ModelEntry, State
from installer.store.problems import Problem, all_sentences, load_problem, sentence

if TYPE_CHECKING:
    from engine.models.registry import ModelInfo, ModelRegistry

log = logging.getLogger(__name__)

TRANSLATED_CODES = frozenset({"model-broken", "model-unsupported", "pickle-refused"})
FILE_ONLY = {"file_only": True}  # a log record for logs/engine.log, not the console (see engine.server.startup)


@dataclass(frozen=True)
class Unusable:
    kind: str
    name: str  # the path inside its model folder, as the lists show it
    title: str  # what the A1111 list calls it (a failed checkpoint is still listed there)
    problem: Problem
    location: str

    def to_api(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "title": self.title, "problem": self.problem.value,
                "sentence": all_sentences(self.problem), "location": self.location}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class LoadFailures:
    """Checkpoints that failed to load, by path, while the file keeps its size and mtime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed: dict[Path, tuple[tuple[int, int] | None, Unusable]] = {}

    def translate(self, info: ModelInfo, exc: MapleError) -> MapleError:
        """Remember that ``info`` failed; ``exc`` now says the plain sentence (its own text is logged)."""
        if exc.code not in TRANSLATED_CODES:
            return exc
        problem = load_problem(exc.code, exc.message)
        log.warning("Could not load %s: %s", info.name, exc.message, extra=FILE_ONLY)
        item = Unusable(info.kind, info.name, info.title, problem, info.location)
        with self._lock:
            self._failed[info.path] = (_stamp(info.path), item)
        exc.message = sentence(problem)
        exc.args = (exc.message,)
        return exc

    def forget(self, path: Path) -> None:
        with self._lock:
            self._failed.pop(path, None)

    def current(self) -> list[Unusable]:
        """The failures whose file is unchanged since (a new copy of the file gets another try)."""
        with self._lock:
            kept = {p: v for p, v in self._failed.items() if v[0] is not None and _stamp(p) == v[0]}
            self._failed = kept
            return [item for _stamp_, item in kept.values()]


def _from_entry(entry: ModelEntry) -> Unusable | None:
    if entry.state is not State.BROKEN or entry.problem is None:
        return None
    return Unusable(entry.kind, entry.name, entry.name, entry.problem, entry.location)


def unusable_models(registry: ModelRegistry, failures: LoadFailures) -> list[Unusable]:
    """Every file of the last scan that cannot be used, then the failed loads; each file once."""
    registry.items("checkpoint")  # scanned at least once
    found = [u for u in (_from_entry(e) for e in registry.store.entries) if u is not None]
    names = {(u.kind, u.name) for u in found}
    return found + [u for u in failures.current() if (u.kind, u.name) not in names]

