"""The textual-inversion embeddings of the model folders, loaded for the model in use.

The model registry lists the files (kind ``embedding``: ``embeddings/`` and ``models/embeddings``
of the home and of each shared A1111 / 秋叶 folder). Each file is read once and read again only
when its size or modification time changes; its name is the file name without extension (the
first of two files with the same name wins, the home's before the shared folders'). For a model,
``for_model`` splits them into the ones whose vector width fits its text encoder(s) and the ones
skipped, and says so in the console when that changes. With ``check_folders`` it first looks
whether a folder changed since the last look (a file dropped in, as A1111 notices before each
generation) and rescans the model folders if so.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from engine.models.embedding_files import EmbeddingFileError, read_embedding
from engine.prompts.embeddings import Embedding, EmbeddingSet, fits, model_widths

if TYPE_CHECKING:
    from engine.models.registry import ModelInfo, ModelRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Read:
    stamp: tuple[int, int]  # (size, mtime_ns) the file had when it was read
    embedding: Embedding | None  # None: the file could not be read (and was reported once)


class EmbeddingLibrary:
    """Embedding files read once, and the set that fits each model (thread-safe)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._files: dict[Path, _Read] = {}
        self._sets: dict[tuple[Any, ...], EmbeddingSet] = {}
        self._folders: dict[str, int] | None = None
        self._shown: tuple[Any, ...] | None = None

    def for_model(self, pipe: Any, label: str = "the loaded model", check_folders: bool = False) -> EmbeddingSet:
        """The embeddings ``pipe`` can use and those skipped for their width."""
        if check_folders and self._folders_changed():
            self.registry.refresh()
        widths = model_widths(pipe)
        with self._lock:
            embeddings = self._read_all()
            key = (tuple(sorted(widths.items())), tuple(id(e) for e in embeddings))
            found = self._sets.get(key)
            if found is None:
                found = self._sets[key] = _split(embeddings, widths)
                self._sets = {key: found}  # the models in use change rarely: keep the last one
            self._report(found, widths, label)
            return found

    def reload(self) -> None:
        """Forget what was read (``refresh-embeddings``): every file is read again on next use."""
        self.registry.refresh()
        with self._lock:
            self._files.clear()
            self._sets.clear()
            self._shown = None
        self._folders = self._folder_stamps()

    def _read_all(self) -> list[Embedding]:
        embeddings: dict[str, Embedding] = {}
        for info in self.registry.embeddings():
            name = PurePosixPath(info.name).stem
            read = self._read(info, name)
            if read is None:
                continue
            if name in embeddings:
                log.info("Embedding %s in %s is not used: %s has the same name", name, info.path,
                         embeddings[name].path)
                continue
            embeddings[name] = read
        return list(embeddings.values())

    def _read(self, info: ModelInfo, name: str) -> Embedding | None:
        try:
            st = info.path.stat()
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        known = self._files.get(info.path)
        if known is not None and known.stamp == stamp:
            return known.embedding
        embedding = _load(info, name)
        self._files[info.path] = _Read(stamp, embedding)
        return embedding

    def _report(self, found: EmbeddingSet, widths: dict[str, int], label: str) -> None:
        shown = (tuple(found.loaded), tuple(found.skipped), label)
        if shown == self._shown:
            return
        self._shown = shown
        if found.loaded:
            log.info("Textual inversion embeddings loaded (%d): %s", len(found.loaded), ", ".join(found.loaded))
        wanted = sum(widths.values())
        for name, embedding in found.skipped.items():
            log.warning("Embedding %s skipped: its vectors are %d wide, %s takes %d", name, embedding.shape,
                        label, wanted)

    def _folders_changed(self) -> bool:
        stamps = self._folder_stamps()
        changed = stamps != self._folders  # the first look rescans too: files may have come since the start
        self._folders = stamps
        return changed

    def _folder_stamps(self) -> dict[str, int]:
        folders = [f.path for f in self.registry.store.folders() if f.kind == "embedding"]
        return {path: mtime for folder in folders for path, mtime in _dirs(folder)}


def _split(embeddings: list[Embedding], widths: dict[str, int]) -> EmbeddingSet:
    loaded = {e.name: e for e in embeddings if fits(e, widths)}
    skipped = {e.name: e for e in embeddings if e.name not in loaded}
    return EmbeddingSet(loaded, skipped)


def _load(info: ModelInfo, name: str) -> Embedding | None:
    try:
        embedding = read_embedding(info.path)
        short = (info.sha256 or _sha256(info.path))[:12]
    except (EmbeddingFileError, OSError) as exc:
        log.warning("Embedding %s not loaded: %s", info.path, getattr(exc, "message", exc))
        return None
    return replace(embedding, name=name, short_hash=short)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dirs(folder: Path) -> Iterator[tuple[str, int]]:
    """(path, mtime_ns) of ``folder`` and the folders below it, if it exists."""
    stack = [str(folder)]
    while stack:
        path = stack.pop()
        try:
            yield path, os.stat(path).st_mtime_ns
            with os.scandir(path) as it:
                stack.extend(e.path for e in it if e.is_dir() and not e.name.startswith("."))
        except OSError:
            continue
