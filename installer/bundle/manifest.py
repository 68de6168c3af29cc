"""``bundle.json``: what a Maple bundle holds, file by file, for checking and later self-update.

The manifest names Maple's and Python's versions, the signature checks the embeddable Python's
binaries passed at build time, and every file's size and sha256 (paths relative to the bundle's
root, with ``/``). What the program writes beside itself later, the data home (``data/``), the
engine's packages (``engine-packages/``) and byte-code caches, is never listed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer.errors import MapleError

FILENAME = "bundle.json"
FORMAT = 1
NOT_LISTED_TOP = frozenset({"data", "engine-packages"})  # folders at the bundle's root


class ManifestError(MapleError):
    code = "bundle-manifest"
    default_hint = "Download the Maple zip again and extract all of it."


@dataclass(frozen=True)
class FileEntry:
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    maple_version: str
    python_version: str
    files: Mapping[str, FileEntry]
    signed: Mapping[str, str] = field(default_factory=dict)  # binary -> signer organisation
    sources: Mapping[str, str] = field(default_factory=dict)  # what it was built from -> sha256

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "maple_version": self.maple_version,
            "python_version": self.python_version,
            "platform": "win_amd64",
            "sources": dict(sorted(self.sources.items())),
            "signed": dict(sorted(self.signed.items())),
            "files": {k: {"size": v.size, "sha256": v.sha256} for k, v in sorted(self.files.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise ManifestError(f"{FILENAME} has format {data.get('format')!r}, expected {FORMAT}")
        try:
            files = {k: FileEntry(int(v["size"]), str(v["sha256"])) for k, v in data["files"].items()}
            return cls(str(data["maple_version"]), str(data["python_version"]), files,
                       dict(data.get("signed", {})), dict(data.get("sources", {})))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ManifestError(f"{FILENAME} is malformed: {exc}") from exc


def file_entry(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return FileEntry(size, digest.hexdigest())


def listed_files(root: Path) -> Iterator[Path]:
    """The files a manifest of ``root`` lists: all but itself and what the program writes later."""
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.as_posix() == FILENAME:
            continue
        if rel.parts[0] in NOT_LISTED_TOP or "__pycache__" in rel.parts or path.suffix == ".pyc":
            continue
        yield path


def scan(root: Path) -> dict[str, FileEntry]:
    return {p.relative_to(root).as_posix(): file_entry(p) for p in listed_files(root)}


def write(root: Path, manifest: Manifest) -> Path:
    target = root / FILENAME
    target.write_text(json.dumps(manifest.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def read(root: Path) -> Manifest:
    try:
        data = json.loads((root / FILENAME).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"Cannot read {root / FILENAME}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ManifestError(f"{FILENAME} is not valid JSON: {exc}") from exc
    return Manifest.from_dict(data)


def differences(root: Path, manifest: Manifest) -> list[str]:
    """Files listed but missing or changed, and files present but not listed; [] when intact."""
    present = scan(root)
    problems = [f"missing: {name}" for name in manifest.files if name not in present]
    problems += [f"changed: {name}" for name, entry in manifest.files.items()
                 if name in present and present[name] != entry]
    problems += [f"not listed: {name}" for name in present if name not in manifest.files]
    return sorted(problems)
