"""Shared pieces of the download tests: data, specs, a fast retry policy, progress recording."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from installer.downloads import DownloadProgress, DownloadSpec, RetryPolicy
from installer.downloads import fetch as dl_fetch
from installer.downloads import parallel as dl_parallel

FAST = RetryPolicy(attempts=4, base_delay=0.05, max_delay=3.0, connect_timeout=2.0, read_timeout=1.0)


def payload(n: int, seed: int = 0) -> bytes:
    return hashlib.sha256(str(seed).encode()).digest() * (n // 32) + os.urandom(n % 32)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def spec_for(urls: list[str] | str, folder: Path, data: bytes | None, name: str = "model.safetensors", *, known: bool = True) -> DownloadSpec:
    urls = [urls] if isinstance(urls, str) else urls
    sources = [(f"src{i}", u) for i, u in enumerate(urls)]
    return DownloadSpec(sources, folder, name, len(data) if data is not None and known else None,
                        sha(data) if data is not None and known else None, "checkpoint")


class Recorder:
    def __init__(self) -> None:
        self.reports: list[DownloadProgress] = []
        self.lock = threading.Lock()

    def __call__(self, p: DownloadProgress) -> None:
        with self.lock:
            self.reports.append(p)

    @property
    def states(self) -> list[str]:
        return [p.state for p in self.reports]

    def max_done(self) -> int:
        return max((p.done for p in self.reports), default=0)


def wait_for(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let small test files use several connections (pieces of 16 KiB from 64 KiB files up)."""
    monkeypatch.setattr(dl_fetch, "PARALLEL_MIN", 64 * 1024)
    monkeypatch.setattr(dl_fetch, "CHUNK", 16 * 1024)
    monkeypatch.setattr(dl_fetch, "PROBE_S", 0.0)
    monkeypatch.setattr(dl_fetch, "FAST_SINGLE", float("inf"))
    monkeypatch.setattr(dl_parallel, "MIN_PIECE", 16 * 1024)
