"""The engine's model lists: checkpoints, VAEs and LoRAs, with A1111's names, titles and hashes.

Built on installer's ``ModelStore`` (which walks the home's and the shared folders and keeps
``cache/hashes.json``), so a file hashed by the launcher or a download is never hashed again, and
one hashed here is remembered for them. Broken files are left out. Lookups accept what A1111
clients send: a title ``name [hash]``, a name with or without extension, or a hash; a name that
tries to leave the model folders is refused (``check_name``, the engine's one check of model names).
Given the request ``field`` a name came from, the errors name it and carry it as data.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from engine.errors import UnsafeNameError
from engine.models.builtin import BUILTIN_LABEL, is_builtin_name
from engine.models.demo import DEMO_LABEL
from engine.models.errors import not_found_hint
from installer.errors import BrokenModelError, ModelNotFoundError
from installer.home import Home
from installer.store.model_store import ModelEntry, ModelStore, State
from installer.store.problems import sentence

log = logging.getLogger(__name__)
KINDS = ("checkpoint", "vae", "lora", "embedding", "upscaler", "controlnet")


@dataclass(frozen=True)
class ModelInfo:
    kind: str  # "checkpoint" | "vae" | "lora"
    name: str  # path inside its folder with "/" separators, e.g. "anime/x.safetensors"
    path: Path
    arch: str
    sha256: str | None = None
    lora_hash: str | None = None  # LoRAs: A1111's 12-hex hash of the tensor bytes
    location: str = "home"
    is_folder: bool = False  # a diffusers folder

    @property
    def model_name(self) -> str:
        """A1111's ``model_name``: the name without its extension."""
        return self.name if self.is_folder else str(PurePosixPath(self.name).with_suffix(""))

    @property
    def stem(self) -> str:
        """The bare file name without extension: what ``<lora:NAME:w>`` uses."""
        return PurePosixPath(self.model_name).name

    @property
    def short_hash(self) -> str | None:
        return self.sha256[:10] if self.sha256 else None

    @property
    def title(self) -> str:
        """A1111's title: ``name [hash10]`` (just the name until the hash is known)."""
        return f"{self.name} [{self.short_hash}]" if self.sha256 else self.name

    @property
    def is_demo(self) -> bool:
        """Maple's own model: the noise demo or the built-in shapes model."""
        return self.arch == "demo" or (self.kind == "checkpoint" and is_builtin_name(self.name))

    @property
    def own_label(self) -> str:
        """What Maple's own models draw ("" for the user's models)."""
        if not self.is_demo:
            return ""
        return DEMO_LABEL if self.arch == "demo" else BUILTIN_LABEL

    @property
    def label(self) -> str:
        """What a list shows: the title, and for Maple's own models what they draw."""
        return f"{self.title} ({self.own_label})" if self.is_demo else self.title


def _info(entry: ModelEntry) -> ModelInfo:
    return ModelInfo(entry.kind, entry.name, entry.path, entry.arch, entry.sha256, entry.lora_hash,
                     entry.location, entry.path.is_dir())


def check_name(name: str, field: str | None = None) -> str:
    """``name`` stripped; refuses one that points outside the model folders (empty, absolute, ``..``,
    a drive letter, NUL) with ``UnsafeNameError`` naming ``field``. A title's `` [hash]`` is not
    part of the path."""
    text = name.strip()
    path = text.split(" [", 1)[0]
    parts = path.replace("\\", "/").split("/")
    if not path or path.startswith(("/", "\\")) or ".." in parts or (len(path) > 1 and path[1] == ":") or "\x00" in path:
        raise UnsafeNameError(f"{_label(field)}{name!r} is not a name inside Maple's model folders", field=field)
    return text


def _label(field: str | None) -> str:
    return f"{field}: " if field else ""


class ModelRegistry:
    """The lists the API and the worker use; ``refresh()`` rescans (fast: headers from the cache)."""

    def __init__(self, home: Home, shared_folders: Sequence[str | Path] = (),
                 folders_now: Callable[[], Sequence[str | Path]] | None = None) -> None:
        """``folders_now``: the shared folders as they are now, read again by every ``refresh()``
        (the user adds and removes them while the engine runs)."""
        self.store = ModelStore(home, shared_folders)
        self._folders_now = folders_now
        self._lock = threading.Lock()
        self._items: dict[str, list[ModelInfo]] = {k: [] for k in KINDS}
        self._scanned = False

    def refresh(self) -> None:
        if self._folders_now is not None:
            self.store.shared_folders = [str(s) for s in self._folders_now()]
        entries = self.store.scan()
        items: dict[str, list[ModelInfo]] = {k: [] for k in KINDS}
        for entry in entries:
            if entry.state is State.BROKEN or entry.kind not in items:
                if entry.problem is not None:
                    log.info("Not listing %s: %s", entry.name, sentence(entry.problem))
                    log.info("%s", entry.reason, extra={"file_only": True})  # the detail, for logs/engine.log
                continue
            items[entry.kind].append(_info(entry))
        with self._lock:
            self._items = items
            self._scanned = True

    def items(self, kind: str) -> list[ModelInfo]:
        if not self._scanned:
            self.refresh()
        with self._lock:
            return list(self._items[kind])

    def checkpoints(self) -> list[ModelInfo]:
        return self.items("checkpoint")

    def vaes(self) -> list[ModelInfo]:
        return self.items("vae")

    def loras(self) -> list[ModelInfo]:
        return self.items("lora")

    def embeddings(self) -> list[ModelInfo]:
        return self.items("embedding")

    def find(self, kind: str, name: str, field: str | None = None) -> ModelInfo:
        """By title, name, name without extension, bare stem, or hash; raises with what exists.

        ``field``: the request field ``name`` came from, named by the errors."""
        text = check_name(name, field)
        candidates = self.items(kind)
        for match in (_by_title, _by_name, _by_stem, _by_hash):
            found = [i for i in candidates if match(i, text)]
            if found:
                return self.with_hash(found[0]) if kind == "checkpoint" else found[0]
        if kind == "lora":  # A1111 also finds a LoRA by its alias, the trainer's output name
            aliased = [i for i in candidates if _by_alias(i, text)]
            if aliased:
                return aliased[0]
        broken = self._broken(kind, text)
        if broken is not None and broken.problem is not None:  # the file is there but cannot be used: say why
            raise BrokenModelError(f"{_label(field)}{broken.name}: {sentence(broken.problem)}", field=field)
        known = ", ".join(i.title for i in candidates[:20]) or "none"
        raise ModelNotFoundError(f"{_label(field)}No {kind} named {name!r}. Available: {known}", not_found_hint(kind),
                                 field=field)

    def _broken(self, kind: str, text: str) -> ModelEntry | None:
        """The broken file of the last scan that ``text`` names (name, file name or stem), if any."""
        wanted = text.split(" [", 1)[0]
        return next((e for e in self.store.entries if e.state is State.BROKEN and e.kind in (kind, "unknown")
                     and wanted in (e.name, e.path.name, e.path.stem)), None)

    def find_checkpoint(self, name: str) -> ModelInfo:
        return self.find("checkpoint", name)

    def find_vae(self, name: str) -> ModelInfo:
        return self.find("vae", name)

    def find_lora(self, name: str) -> ModelInfo:
        info = self.find("lora", name)
        return info if info.lora_hash else self.with_hash(info)

    def with_hash(self, info: ModelInfo) -> ModelInfo:
        """``info`` with its hashes, computed once (and remembered in cache/hashes.json) if missing."""
        needs = info.sha256 is None or (info.kind == "lora" and info.lora_hash is None)
        if info.is_folder or not needs:
            return info
        fresh = _info(self.store.verify(info.path))
        with self._lock:
            self._items[info.kind] = [fresh if i.path == info.path else i for i in self._items[info.kind]]
        return replace(info, sha256=fresh.sha256, lora_hash=fresh.lora_hash)


def _by_alias(info: ModelInfo, text: str) -> bool:
    from engine.models.lora_metadata import lora_alias, lora_metadata

    return lora_alias(info.path, lora_metadata(info.path)) == text


def _by_title(info: ModelInfo, text: str) -> bool:
    return info.title == text


def _by_name(info: ModelInfo, text: str) -> bool:
    base = text.split(" [", 1)[0] if text.endswith("]") else text
    return base in (info.name, info.model_name)


def _by_stem(info: ModelInfo, text: str) -> bool:
    return text in (info.stem, PurePosixPath(info.name).name)


def _by_hash(info: ModelInfo, text: str) -> bool:
    key = text.strip("[]").lower()
    return len(key) >= 8 and bool(info.sha256) and str(info.sha256).startswith(key)
