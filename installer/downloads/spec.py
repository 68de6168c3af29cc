"""What to download: the spec, and building one from a catalog entry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installer.downloads.names import sanitize_filename
from installer.downloads.network import NetworkLike
from installer.downloads.sources import order_sources
from installer.errors import DownloadError
from installer.home import MODEL_DIRS, Home

EXTRA_DIRS = {"taesd": "models/VAE-approx", "vae-approx": "models/VAE-approx"}


@dataclass
class DownloadSpec:
    """One file to fetch: its sources in catalog order as (name, url), where it goes, what it must be.

    ``size``/``sha256`` may be None (unknown): the source's published figures are then used, or
    the hash of what arrived is recorded after. ``kind`` is the model kind (checkpoint, vae, lora, ...).
    """

    sources: list[tuple[str, str]]
    dest_dir: Path
    filename: str
    size: int | None = None
    sha256: str | None = None
    kind: str = "checkpoint"
    base_model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dest_dir = Path(self.dest_dir)
        if self.sha256:
            self.sha256 = self.sha256.strip().lower()
        if not self.sources:
            raise DownloadError(f"No download source for {self.filename}", "Add the model by its URL instead.")

    @property
    def target(self) -> Path:
        return self.dest_dir / self.filename


def folder_for(home: Home, kind: str) -> Path:
    if kind in MODEL_DIRS:
        return home.models_dir(kind)
    if kind in EXTRA_DIRS:
        return home.root / EXTRA_DIRS[kind]
    raise DownloadError(f"Maple has no folder for models of kind {kind!r}", "Download it by hand into the right folder.")


def _pair(item: Any) -> tuple[str, str]:
    if isinstance(item, Mapping):
        return str(item.get("name") or item.get("source") or "url"), str(item["url"])
    if isinstance(item, (tuple, list)):
        return str(item[0]), str(item[1])
    return str(getattr(item, "name", "url")), str(item.url)


def source_pairs(sources: Any) -> list[tuple[str, str]]:
    """Accept the catalog's sources as a list of {name,url} / objects / pairs, or a name->url mapping."""
    if isinstance(sources, Mapping):
        return [(str(k), str(v)) for k, v in sources.items()]
    items: Iterable[Any] = sources or []
    return [_pair(item) for item in items]


def spec_from_catalog(entry: Any, home: Home, settings: NetworkLike = None) -> DownloadSpec:
    """A spec for a catalog entry (anything with id, kind, file, size, sha256, sources)."""
    pairs = source_pairs(getattr(entry, "sources", None))
    if not pairs:
        raise DownloadError(f"The catalog lists no source for {getattr(entry, 'id', entry)}")
    return DownloadSpec(
        sources=order_sources(pairs, settings),
        dest_dir=folder_for(home, str(entry.kind)),
        filename=sanitize_filename(str(entry.file)),
        size=getattr(entry, "size", None),
        sha256=getattr(entry, "sha256", None),
        kind=str(entry.kind),
        base_model=getattr(entry, "arch", None),
        extra={"catalog_id": getattr(entry, "id", None)},
    )
