"""The built-in model catalog (``assets/catalog.json``): known files, their hashes and sources.

An entry's ``size`` or ``sha256`` is ``None`` when it is not known for certain; the downloader then
takes the figure the source publishes at download time. ``verified`` is true only for entries
whose size and sha256 were both confirmed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from installer.errors import ModelError

CATALOG_ENV = "MAPLE_CATALOG"
CATALOG_FILE = Path(__file__).resolve().parents[2] / "assets" / "catalog.json"
KINDS = ("checkpoint", "vae", "lora", "taesd", "upscaler", "controlnet")
SOURCE_NAMES = ("huggingface", "hf-mirror", "civitai", "modelscope", "github")  # github: release files
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class CatalogError(ModelError):
    code = "catalog"
    default_hint = "Run `maple-models catalog` to see the models Maple knows."


class Source(NamedTuple):
    """Where a file can be downloaded: ``name`` is one of ``SOURCE_NAMES``."""

    name: str
    url: str


@dataclass(frozen=True)
class Description:
    en: str
    zh: str

    def get(self, language: str) -> str:
        return self.zh if language.startswith("zh") else self.en


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    kind: str
    arch: str
    file: str
    size: int | None
    sha256: str | None
    verified: bool
    license: str
    description: Description
    sources: tuple[Source, ...]
    note: str = ""

    @property
    def short_hash(self) -> str | None:
        """A1111's 10-hex model hash, when the sha256 is known."""
        return self.sha256[:10] if self.sha256 else None

    def url(self, source: str) -> str | None:
        return next((s.url for s in self.sources if s.name == source), None)

    def ordered_sources(self, preferred: str = "auto") -> tuple[Source, ...]:
        """The sources with ``preferred`` first ("auto" keeps the catalog's order)."""
        first = tuple(s for s in self.sources if s.name == preferred)
        return first + tuple(s for s in self.sources if s.name != preferred)


@dataclass(frozen=True)
class Catalog:
    entries: tuple[CatalogEntry, ...]

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def by_id(self, entry_id: str) -> CatalogEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    @cached_property
    def _by_sha256(self) -> dict[str, CatalogEntry]:
        return {e.sha256: e for e in reversed(self.entries) if e.sha256}

    @cached_property
    def _by_file(self) -> dict[str, CatalogEntry]:
        return {e.file.lower(): e for e in reversed(self.entries)}

    def by_sha256(self, sha256: str) -> CatalogEntry | None:
        return self._by_sha256.get(sha256.lower())

    def by_file(self, file_name: str) -> CatalogEntry | None:
        return self._by_file.get(file_name.lower())

    def get(self, entry_id: str) -> CatalogEntry:
        entry = self.by_id(entry_id)
        if entry is None:
            raise CatalogError(f"No model with id {entry_id!r} in Maple's catalog")
        return entry

    def of_kind(self, kind: str) -> tuple[CatalogEntry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)


def _fail(where: str, problem: str) -> CatalogError:
    return CatalogError(f"The model catalog is damaged: {where}: {problem}", "Reinstall Maple.")


def _entry(raw: dict[str, Any]) -> CatalogEntry:
    where = str(raw.get("id", "an entry without id"))
    try:
        sources = tuple(Source(str(s["name"]), str(s["url"])) for s in raw["sources"])
        desc = raw["description"]
        entry = CatalogEntry(
            id=str(raw["id"]), name=str(raw["name"]), kind=str(raw["kind"]), arch=str(raw["arch"]),
            file=str(raw["file"]), size=raw["size"], sha256=raw["sha256"], verified=bool(raw["verified"]),
            license=str(raw["license"]), description=Description(str(desc["en"]), str(desc["zh"])),
            sources=sources, note=str(raw.get("note", "")),
        )
    except (KeyError, TypeError) as exc:
        raise _fail(where, f"missing or malformed field {exc}") from exc
    _check(entry)
    return entry


def _check(e: CatalogEntry) -> None:
    problems = []
    if e.kind not in KINDS:
        problems.append(f"unknown kind {e.kind!r}")
    if e.sha256 is not None and not _SHA256.match(e.sha256):
        problems.append("sha256 is not 64 lower-case hex digits")
    if e.size is not None and (not isinstance(e.size, int) or e.size <= 0):
        problems.append("size is not a positive integer")
    if e.verified and (e.size is None or e.sha256 is None):
        problems.append("verified entries need both size and sha256")
    if not e.sources or any(s.name not in SOURCE_NAMES for s in e.sources):
        problems.append("sources must be named " + ", ".join(SOURCE_NAMES))
    if Path(e.file).name != e.file or e.file in ("", ".", ".."):
        problems.append("file must be a plain file name")
    if problems:
        raise _fail(e.id, "; ".join(problems))


def parse_catalog(data: Any) -> Catalog:
    """Build a ``Catalog`` from the decoded JSON, checking every entry."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise _fail("top level", "expected an object with a 'models' list")
    entries = tuple(_entry(raw) for raw in data["models"])
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _fail("ids", "duplicated " + ", ".join(duplicates))
    return Catalog(entries)


@lru_cache(maxsize=4)
def _load(path: Path) -> Catalog:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(str(path), str(exc)) from exc
    return parse_catalog(data)


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog at ``path``, else at ``MAPLE_CATALOG`` (a site's own list), else the built-in one."""
    chosen = path or (Path(os.environ[CATALOG_ENV]) if os.environ.get(CATALOG_ENV) else CATALOG_FILE)
    return _load(chosen.resolve())
