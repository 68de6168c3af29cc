"""The model store: every model in the data home and in the user's shared folders, in place.

``scan()`` is fast (a stat per file, headers only for new or changed files, hashes from the cache);
``hash_missing()`` computes the missing hashes in the background with progress and cancel.
Files are never copied or linked; shared folders are read-only to Maple.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from installer.errors import UnsafePathError
from installer.home import MODEL_DIRS, Home, kind_dirs
from installer.store.catalog import Catalog, load_catalog
from installer.store.diffusers_folders import is_diffusers_folder, probe_folder
from installer.store.entry import (
    HOME_LOCATION,
    ModelEntry,
    ModelFolder,
    State,
    make_entry,
    shared_model_folders,
)
from installer.store.hash_cache import FileRecord, HashCache
from installer.store.hashing import Cancelled, sha256_file_split
from installer.store.probing import PROBE_VERSION, extensions_for, probe, walk

log = logging.getLogger(__name__)

__all__ = ["HOME_LOCATION", "ModelEntry", "ModelFolder", "ModelStore", "State", "StoreProgress"]
SAVE_EVERY_S = 10.0
_KIND_ORDER = {kind: i for i, kind in enumerate(MODEL_DIRS)}
StoreProgress = Callable[[int, int, str], None]  # (bytes done, bytes total, file name)


class ModelStore:
    def __init__(self, home: Home, shared_folders: Sequence[str | Path] = (),
                 catalog: Catalog | None = None, cache: HashCache | None = None) -> None:
        self.home = home
        self.shared_folders = [str(s) for s in shared_folders]
        self.catalog = catalog if catalog is not None else load_catalog()
        self.cache = cache if cache is not None else HashCache(home.cache_dir / "hashes.json")
        self._entries: dict[str, ModelEntry] = {}
        self._lock = threading.Lock()

    def folders(self) -> list[ModelFolder]:
        found = [ModelFolder(self.home.root / rel, k, HOME_LOCATION) for k in MODEL_DIRS for rel in kind_dirs(k)]
        for shared in self.shared_folders:
            found.extend(shared_model_folders(shared))
        seen: set[Path] = set()
        unique = []
        for folder in found:
            key = folder.path.resolve()
            if key not in seen:
                seen.add(key)
                unique.append(folder)
        return unique

    @property
    def entries(self) -> list[ModelEntry]:
        return list(self._entries.values())

    def scan(self) -> list[ModelEntry]:
        """List every model file and broken file in all folders; reads headers only when needed."""
        entries: dict[str, ModelEntry] = {}
        seen_files: set[object] = set()
        folders = self.folders()
        for folder in folders:
            prefix = len(str(folder.path)) + 1
            for item in walk(folder.path, extensions_for(folder.kind)):
                st = item.stat()
                identity = (st.st_dev, st.st_ino) if st.st_ino else os.path.realpath(item.path)
                if identity in seen_files:
                    continue
                seen_files.add(identity)
                record = self._record(item.path, st.st_size, st.st_mtime_ns, folder.kind, item.is_dir())
                name = item.path[prefix:].replace(os.sep, "/")
                entries[item.path] = make_entry(self.catalog, Path(item.path), name, folder, record)
        self._prune(entries, folders)
        self.cache.save()
        ordered = dict(sorted(entries.items(), key=lambda kv: (_KIND_ORDER.get(kv[1].kind, 9), kv[1].name.lower())))
        with self._lock:
            self._entries = ordered
        return list(ordered.values())

    def _record(self, path: str | Path, size: int, mtime_ns: int, kind: str | None,
                is_dir: bool = False) -> FileRecord:
        if is_dir:
            return probe_folder(Path(path), mtime_ns)
        record = self.cache.get(path, size, mtime_ns)
        if record is None or record.probe != PROBE_VERSION:
            fresh = probe(Path(path), size, mtime_ns, kind)
            if record is not None and record.sha256:
                fresh = fresh.with_hashes(record.sha256, record.tensor_sha256)
            record = fresh
            self.cache.put(path, record)
        return record

    def _prune(self, entries: dict[str, ModelEntry], folders: list[ModelFolder]) -> None:
        """Forget cached files that are gone from the folders just scanned."""
        prefixes = tuple(str(f.path) + os.sep for f in folders if f.path.is_dir())  # an unplugged drive keeps its hashes
        for key in self.cache.paths():
            if key not in entries and key.startswith(prefixes):
                self.cache.forget(key)

    def _entry(self, path: Path, folder: ModelFolder, rec: FileRecord) -> ModelEntry:
        name = path.relative_to(folder.path).as_posix()
        return make_entry(self.catalog, path, name, folder, rec)

    def _needs_hash(self, entry: ModelEntry) -> bool:
        if entry.state is State.BROKEN or entry.state is State.UNKNOWN and entry.sha256 is None:
            return False  # broken, or a diffusers folder (not hashed)
        return entry.sha256 is None or (entry.kind == "lora" and entry.lora_hash is None)

    def hash_missing(self, progress: StoreProgress | None = None,
                     cancel: threading.Event | None = None) -> list[ModelEntry]:
        """Hash every listed file that has no cached hash; stops early (keeping what is done) on cancel."""
        if not self._entries:
            self.scan()
        todo = sorted((e for e in self.entries if self._needs_hash(e)), key=lambda e: e.size)  # many done soon
        total = sum(e.size for e in todo)
        done = 0
        saved = time.monotonic()
        try:
            for entry in todo:
                if cancel is not None and cancel.is_set():
                    break
                self._hash(entry, progress, cancel, done, total)
                done += entry.size
                if time.monotonic() - saved > SAVE_EVERY_S:  # a crash loses minutes of hashing at most
                    self.cache.save()
                    saved = time.monotonic()
        except Cancelled:
            log.info("Hashing cancelled after %d of %d bytes", done, total)
        finally:
            self.cache.save()
        return self.entries

    def _hash(self, entry: ModelEntry, progress: StoreProgress | None, cancel: threading.Event | None,
              offset: int, total: int) -> ModelEntry:
        st = entry.path.stat()
        record = self._record(entry.path, st.st_size, st.st_mtime_ns, entry.kind)
        if record.broken:
            return self._replace(entry, record)
        report = (lambda d, _t: progress(offset + d, total, entry.name)) if progress else None
        lora = record.kind == "lora" and record.data_offset is not None
        split = record.data_offset if lora and record.data_offset is not None else st.st_size  # one hash unless LoRA
        whole, tail = sha256_file_split(entry.path, split, report, cancel)
        after = entry.path.stat()
        if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            log.warning("%s changed while it was hashed; it will be hashed again later", entry.path)
            return entry
        record = record.with_hashes(whole, tail if record.kind == "lora" else None)
        self.cache.put(entry.path, record)
        return self._replace(entry, record)

    def _replace(self, entry: ModelEntry, record: FileRecord) -> ModelEntry:
        fresh = make_entry(self.catalog, entry.path, entry.name, entry, record)
        with self._lock:
            self._entries[str(entry.path)] = fresh
        return fresh

    def _known(self, path: Path) -> tuple[Path, ModelFolder]:
        target = Path(path).expanduser().absolute()
        real = target.resolve()
        for folder in self.folders():
            base = folder.path.resolve()
            if real.is_relative_to(base) and real != base:
                return folder.path / real.relative_to(base), folder
        raise UnsafePathError(f"{target} is not inside one of Maple's model folders")

    def verify(self, path: Path, progress: StoreProgress | None = None,
               cancel: threading.Event | None = None) -> ModelEntry:
        """Hash ``path`` again from its bytes (ignoring the cache) and return its fresh state."""
        target, folder = self._known(path)
        self.cache.forget(target)
        st = target.stat()
        record = self._record(target, st.st_size, st.st_mtime_ns, folder.kind, target.is_dir())
        entry = self._entry(target, folder, record)
        if entry.state is not State.BROKEN and not target.is_dir():
            entry = self._hash(entry, progress, cancel, 0, entry.size)
        self.cache.save()
        with self._lock:
            self._entries[str(target)] = entry
        return entry

    def remove(self, path: Path, allow_shared: bool = False) -> None:
        """Send a model file to the trash; refuses anything outside the model folders."""
        from send2trash import send2trash

        target, folder = self._known(path)
        is_model_file = target.is_file() and target.name.lower().endswith(extensions_for(folder.kind))
        if not (is_model_file or target.is_dir() and is_diffusers_folder(str(target))):
            raise UnsafePathError(f"{target} is not a model file", "Only model files can be removed.")
        if folder.location != HOME_LOCATION and not allow_shared:
            raise UnsafePathError(f"{target.name} is in the shared folder {folder.location}, which Maple only reads",
                                  "Delete it from the program that owns that folder.")
        send2trash(str(target))
        log.info("Sent %s to the trash", target)
        self.cache.forget(target)
        self.cache.save()
        with self._lock:
            self._entries.pop(str(target), None)
