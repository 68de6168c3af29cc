"""The settings the downloader reads, as one frozen value: proxy, tokens, and what orders the sources.

The downloader never holds the whole (mutable, validated) ``Settings``: every entry point turns
what it is given into a ``NetworkSettings`` once, with ``network_of``, and passes that down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from installer.settings import DownloadSource, Language, Settings


@dataclass(frozen=True)
class NetworkSettings:
    """``proxy`` ("" = the environment's), Hugging Face and Civitai tokens ("" = the environment's),
    the preferred source, and the UI language (Chinese makes "auto" try the China mirror first)."""

    proxy: str = ""
    hf_token: str = ""
    civitai_token: str = ""
    download_source: DownloadSource = "auto"
    language: Language = "system"

    @classmethod
    def from_settings(cls, settings: Settings) -> NetworkSettings:
        return cls(settings.proxy, settings.hf_token, settings.civitai_token, settings.download_source, settings.language)


NetworkLike: TypeAlias = Settings | NetworkSettings | None


def network_of(settings: NetworkLike) -> NetworkSettings:
    """The network view of the user's settings (defaults for None)."""
    if isinstance(settings, NetworkSettings):
        return settings
    return NetworkSettings() if settings is None else NetworkSettings.from_settings(settings)
