"""What the store tells about one file: its kind, hashes, catalog match and state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from installer.home import MODEL_DIRS, kind_dirs
from installer.store.catalog import Catalog
from installer.store.hash_cache import FileRecord
from installer.store.problems import Problem, problem_of, sentence

HOME_LOCATION = "home"


class State(str, Enum):
    VERIFIED = "verified"  # sha256 equals a catalog entry's
    UNKNOWN = "unknown"  # hashed, not in the catalog
    MISMATCH = "mismatch"  # named like a catalog file, but other bytes
    BROKEN = "broken"  # not a usable model (see reason)
    UNHASHED = "unhashed"  # not hashed yet


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    kind: str | None  # None for a flat shared folder holding any kind
    location: str  # "home" or the shared folder as the user gave it


@dataclass(frozen=True)
class ModelEntry:
    path: Path
    name: str  # path inside its folder, with "/" separators, as A1111 shows it
    kind: str
    arch: str
    size: int
    sha256: str | None
    lora_hash: str | None
    catalog_id: str | None
    state: State
    reason: str
    location: str

    @property
    def short_hash(self) -> str | None:
        return self.sha256[:10] if self.sha256 else None

    @property
    def is_model(self) -> bool:
        return self.state is not State.BROKEN

    @property
    def problem(self) -> Problem | None:
        """Why a broken file cannot be used, as one of the plain sentences of :mod:`installer.store.problems`."""
        return problem_of(self.reason) if self.state is State.BROKEN else None

    def to_json(self) -> dict[str, object]:
        problem = self.problem
        return {"path": str(self.path), "name": self.name, "kind": self.kind, "arch": self.arch,
                "size": self.size, "sha256": self.sha256, "short_hash": self.short_hash,
                "lora_hash": self.lora_hash, "catalog_id": self.catalog_id, "state": self.state.value,
                "reason": self.reason, "location": self.location,
                "problem": problem.value if problem else None, "sentence": sentence(problem) if problem else None}


def shared_model_folders(shared: str | Path) -> list[ModelFolder]:
    """The folders of one shared root: its A1111 ``models/...`` folders, or the folder itself."""
    root = Path(shared).expanduser().absolute()
    if (root / "models").is_dir():
        return [ModelFolder(root / rel, kind, str(shared)) for kind in MODEL_DIRS for rel in kind_dirs(kind)]
    return [ModelFolder(root, None, str(shared))]


def make_entry(catalog: Catalog, path: Path, name: str, folder: ModelFolder | ModelEntry,
               rec: FileRecord) -> ModelEntry:
    """``name``: the path inside its folder with "/" separators; ``folder`` gives kind hint and location."""
    state, catalog_id, reason = judge(catalog, path, rec)
    lora_hash = rec.tensor_sha256[:12] if rec.tensor_sha256 and rec.kind == "lora" else None
    kind = rec.kind or folder.kind or "unknown"  # a folder's kind may be None, an entry's "unknown"
    arch = rec.arch or "unknown"
    if arch == "unknown" and state is State.VERIFIED and catalog_id:
        arch = catalog.get(catalog_id).arch  # a VAE's header does not tell SD1 from SDXL; its hash does
    return ModelEntry(path, name, kind, arch, rec.size, rec.sha256,
                      lora_hash, catalog_id, state, reason, folder.location)


def judge(catalog: Catalog, path: Path, rec: FileRecord) -> tuple[State, str | None, str]:
    """(state, catalog id, reason): a hash match wins; a catalog file name with other bytes is a mismatch."""
    if rec.broken:
        return State.BROKEN, None, rec.broken
    match = catalog.by_sha256(rec.sha256) if rec.sha256 else None
    if match is not None:
        return State.VERIFIED, match.id, ""
    named = catalog.by_file(path.name)
    if named is not None and named.size is not None and named.size != rec.size:
        return State.MISMATCH, named.id, (f"{rec.size:,} bytes, but the catalog's {named.id} is "
                                          f"{named.size:,} bytes (a different or damaged file)")
    if rec.sha256 is None:
        return (State.UNKNOWN if path.is_dir() else State.UNHASHED), None, ""
    if named is not None and named.sha256 is not None:
        return State.MISMATCH, named.id, (f"sha256 {rec.sha256[:10]} is not the catalog's {named.id} "
                                          f"({named.sha256[:10]}): a different or damaged file")
    return State.UNKNOWN, None, ""
