"""``cache/hashes.json``: what Maple learned about each model file, keyed by (path, size, mtime).

A record holds the header facts (kind, architecture, or why the file is broken) and, once
computed, the file's sha256 and the LoRA tensor hash. A record is used only while the file keeps
the same size and modification time, so a changed file is looked at again. The file is written
atomically under a lock and merged with what other Maple processes wrote; a cache that cannot be
read is started afresh (it only costs re-hashing), never an error.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from installer.settings import write_atomic

log = logging.getLogger(__name__)

CACHE_VERSION = 1


@dataclass(frozen=True)
class FileRecord:
    """What is known about one file at one (size, mtime_ns)."""

    size: int
    mtime_ns: int
    kind: str | None = None
    arch: str | None = None
    broken: str | None = None
    data_offset: int | None = None
    sha256: str | None = None
    tensor_sha256: str | None = None
    probe: int = 0  # the version of the header reading that filled kind/arch/broken

    def with_hashes(self, sha256: str, tensor_sha256: str | None) -> FileRecord:
        return replace(self, sha256=sha256, tensor_sha256=tensor_sha256)


def _record(raw: Any) -> FileRecord | None:
    names = _FIELD_NAMES
    if not isinstance(raw, dict) or not isinstance(raw.get("size"), int) or not isinstance(raw.get("mtime_ns"), int):
        return None
    try:
        return FileRecord(**{k: v for k, v in raw.items() if k in names})
    except TypeError:
        return None


_FIELD_NAMES = frozenset(f.name for f in fields(FileRecord))


def _read(path: Path) -> dict[str, FileRecord]:
    """The records in ``path``; an unreadable or damaged file gives none (and a warning)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("The hash cache %s could not be read (%s); it will be rebuilt", path, exc)
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("files"), dict):
        log.warning("The hash cache %s has an unknown layout; it will be rebuilt", path)
        return {}
    records = {}
    for key, raw in data["files"].items():
        rec = _record(raw)
        if rec is not None:
            records[str(key)] = rec
    return records


class HashCache:
    """Thread-safe in-process view of ``cache/hashes.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._records = _read(path)
        self._changed: set[str] = set()
        self._forgotten: set[str] = set()

    def __len__(self) -> int:
        return len(self._records)

    def get(self, path: str | Path, size: int, mtime_ns: int) -> FileRecord | None:
        """The record for ``path`` if it was made for this exact size and mtime."""
        rec = self._records.get(str(path))
        if rec is None or rec.size != size or rec.mtime_ns != mtime_ns:
            return None
        return rec

    def put(self, path: str | Path, record: FileRecord) -> None:
        key = str(path)
        with self._lock:
            if self._records.get(key) != record:
                self._records[key] = record
                self._changed.add(key)
                self._forgotten.discard(key)

    def forget(self, path: str | Path) -> None:
        key = str(path)
        with self._lock:
            if self._records.pop(key, None) is not None:
                self._forgotten.add(key)
            self._changed.discard(key)

    def paths(self) -> list[str]:
        return list(self._records)

    @property
    def dirty(self) -> bool:
        return bool(self._changed or self._forgotten)

    def save(self) -> None:
        """Write the cache if anything changed, merged with what other processes saved meanwhile."""
        from filelock import FileLock, Timeout

        with self._lock:
            if not self.dirty:
                return
            try:
                with FileLock(str(self.path) + ".lock", timeout=10):
                    self._merge_and_write()
            except (OSError, Timeout) as exc:
                log.warning("The hash cache %s could not be saved (%s)", self.path, exc)

    def _merge_and_write(self) -> None:
        merged = _read(self.path)
        for key in self._forgotten:
            merged.pop(key, None)
        for key in self._changed:
            merged[key] = self._records[key]
        for key, rec in merged.items():
            self._records.setdefault(key, rec)
        payload = {"version": CACHE_VERSION, "files": {k: _compact(v) for k, v in merged.items()}}
        write_atomic(self.path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
        self._changed.clear()
        self._forgotten.clear()


def _compact(rec: FileRecord) -> dict[str, Any]:
    return {k: v for k, v in asdict(rec).items() if v is not None}


def remember_hash(cache_file: Path, path: Path, sha256: str, tensor_sha256: str | None = None) -> None:
    """Record the sha256 of a file just written (e.g. by a download that hashed as it streamed)."""
    st = path.stat()
    cache = HashCache(cache_file)
    old = cache.get(path, st.st_size, st.st_mtime_ns) or FileRecord(st.st_size, st.st_mtime_ns)
    cache.put(path, old.with_hashes(sha256.lower(), tensor_sha256 or old.tensor_sha256))
    cache.save()
