"""Maple's downloader: resumable, verified, multi-connection downloads of model files.

``download(spec)`` fetches one file (blocking); ``DownloadManager`` queues several; ``resolve_url``
turns a Hugging Face, Civitai or plain link into a spec; ``spec_from_catalog`` does so for a
catalog entry. Every name from outside goes through ``sanitize_filename``. Each takes the user's
``Settings`` or their ``NetworkSettings`` view (proxy, tokens, source order).
"""

from __future__ import annotations

import threading
from pathlib import Path

from installer.downloads.errors import (
    BadContentError,
    DiskFullError,
    DownloadCancelled,
    DownloadError,
    DownloadInUseError,
    HashMismatchError,
    RangeMismatchError,
    SourceFailedError,
    UnsupportedUrlError,
)
from installer.downloads.http import RetryPolicy
from installer.downloads.lifecycle import DownloadState, DownloadStateError
from installer.downloads.manager import DownloadJob, DownloadManager
from installer.downloads.names import safe_target, sanitize_filename
from installer.downloads.network import NetworkLike, NetworkSettings
from installer.downloads.progress import DownloadProgress, ProgressCallback
from installer.downloads.resolve import resolve_url
from installer.downloads.runner import DEFAULT_CONNECTIONS, DownloadOutcome, fetch_file
from installer.downloads.sources import order_sources
from installer.downloads.spec import DownloadSpec, folder_for, spec_from_catalog

__all__ = [
    "BadContentError",
    "DiskFullError",
    "DownloadCancelled",
    "DownloadError",
    "DownloadInUseError",
    "DownloadJob",
    "DownloadManager",
    "DownloadOutcome",
    "DownloadProgress",
    "DownloadSpec",
    "DownloadState",
    "DownloadStateError",
    "HashMismatchError",
    "NetworkSettings",
    "RangeMismatchError",
    "RetryPolicy",
    "SourceFailedError",
    "UnsupportedUrlError",
    "download",
    "fetch_file",
    "folder_for",
    "order_sources",
    "resolve_url",
    "safe_target",
    "sanitize_filename",
    "spec_from_catalog",
]


def download(
    spec: DownloadSpec,
    *,
    settings: NetworkLike = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    pause: threading.Event | None = None,
    policy: RetryPolicy | None = None,
    connections: int = DEFAULT_CONNECTIONS,
) -> Path:
    """Download ``spec`` (blocking) and return the final path, verified by size and sha256.

    ``pause`` set: the transfer stops and waits, keeping its bytes; ``cancel`` set: DownloadCancelled,
    keeping the ``.part`` so a later call resumes.
    """
    return fetch_file(spec, settings=settings, progress=progress, cancel=cancel, pause=pause, policy=policy,
                      connections=connections).path
