"""sha256 of model files, with progress and cancel, and the short hashes A1111 users know."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

from installer.errors import MapleError

CHUNK = 4 * 1024 * 1024
Progress = Callable[[int, int], None]


class Cancelled(MapleError):
    """Hashing stopped because its cancel event was set."""

    code = "cancelled"
    status = 409


def sha256_file(
    path: Path,
    start: int = 0,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """Hex sha256 of ``path`` from byte ``start`` to the end; ``progress(done, total)`` per chunk."""
    digest = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = path.stat().st_size - start
    done = 0
    with path.open("rb", buffering=0) as fh:
        fh.seek(start)
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            digest.update(view[:n])
            done += n
            if progress is not None:
                progress(done, total)
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"Hashing {path.name} was cancelled")
    return digest.hexdigest()


def model_hash(sha256: str) -> str:
    """A1111's checkpoint "Model hash" (and Civitai's AutoV2, upper-cased): 10 hex."""
    return sha256[:10]


def lora_short_hash(tensor_sha256: str) -> str:
    """A1111's "Lora hashes" entry: 12 hex of the sha256 of the bytes after the header."""
    return tensor_sha256[:12]


def sha256_file_split(
    path: Path,
    split: int,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> tuple[str, str]:
    """One read of ``path`` giving (sha256 of the whole file, sha256 of the bytes from ``split``).

    For a LoRA, ``split`` is where the tensor data starts, so the second hash is A1111's LoRA hash.
    """
    whole, tail = hashlib.sha256(), hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    total = path.stat().st_size
    done = 0
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            whole.update(view[:n])
            if done + n > split:
                tail.update(view[max(0, split - done):n])
            done += n
            if progress is not None:
                progress(done, total)
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"Hashing {path.name} was cancelled")
    return whole.hexdigest(), tail.hexdigest()
