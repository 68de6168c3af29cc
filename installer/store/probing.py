"""Finding model files in a folder tree and reading what their first bytes say, without hashing.

A safetensors file is classified from its header (kind, architecture, where the tensor data
starts). A pickle ``.ckpt``/``.pt`` cannot be read safely, so its kind comes from the folder it is
in; it is still checked for the usual damage: an HTML page, a git-LFS pointer, a cut-off zip.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from installer.errors import BrokenModelError
from installer.store.diffusers_folders import is_diffusers_folder
from installer.store.hash_cache import FileRecord
from installer.store.modelfile import inspect
from installer.store.pickle_keys import pickle_kind

SAFETENSORS = ".safetensors"
PICKLE_EXTENSIONS = (".ckpt", ".pt", ".pth")
EXTENSIONS = (SAFETENSORS, *PICKLE_EXTENSIONS)
EMBEDDING_EXTENSIONS = (*EXTENSIONS, ".bin")  # diffusers' learned_embeds.bin, only in embedding folders
PROBE_VERSION = 6  # raise when classification changes: cached kinds are then read again (hashes kept)
BIG_PICKLE = 1_000_000_000  # a pickle this large in a mixed folder is a checkpoint, not a VAE


def extensions_for(kind: str | None) -> tuple[str, ...]:
    """The file endings a folder holding ``kind`` is searched for (None: a folder of any kind)."""
    return EMBEDDING_EXTENSIONS if kind == "embedding" else EXTENSIONS


def walk(folder: Path, extensions: tuple[str, ...] = EXTENSIONS) -> Iterator[os.DirEntry[str]]:
    """Every model file and diffusers folder under ``folder`` (sub-folders included, hidden ones skipped)."""
    stack = [str(folder)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if is_diffusers_folder(entry.path):
                    yield entry  # one model: not searched inside
                else:
                    stack.append(entry.path)
            elif entry.name.lower().endswith(extensions) and entry.is_file():
                yield entry


def probe(path: Path, size: int, mtime_ns: int, folder_kind: str | None) -> FileRecord:
    """A fresh record (no hashes) for ``path``: its kind and architecture, or why it is broken."""
    if path.suffix.lower() == SAFETENSORS:
        return _probe_safetensors(path, size, mtime_ns, folder_kind)
    return _probe_pickle(path, size, mtime_ns, folder_kind)


def _probe_safetensors(path: Path, size: int, mtime_ns: int, folder_kind: str | None = None) -> FileRecord:
    try:
        header, kind, arch = inspect(path)
    except BrokenModelError as exc:
        return FileRecord(size, mtime_ns, broken=exc.message, probe=PROBE_VERSION)
    if kind == "unknown" and folder_kind == "upscaler":  # a family Maple's header check does not name
        kind = "upscaler"
    return FileRecord(size, mtime_ns, kind=kind, arch=arch, data_offset=header.data_offset, probe=PROBE_VERSION)


def _pickle_problem(path: Path, head: bytes, size: int) -> str | None:
    text = head.lstrip()[:64].lower()
    if size < 64:
        return f"{path.name} is empty or truncated ({size} bytes)"
    if text.startswith(b"version https://git-lfs"):
        return f"{path.name} is not a model: it is a git-LFS pointer (the real file was never fetched)"
    if text.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
        return f"{path.name} is not a model: it is an HTML page saved under the model's name"
    if head.startswith(b"PK\x03\x04"):
        if not zipfile.is_zipfile(path):
            return f"{path.name} is truncated: its zip directory is missing (an interrupted download?)"
        return None
    if head[:1] == b"\x80":  # a legacy (non-zip) torch pickle starts with the pickle protocol byte
        return None
    return f"{path.name} is not a PyTorch checkpoint (unknown file format)"


def _probe_pickle(path: Path, size: int, mtime_ns: int, folder_kind: str | None) -> FileRecord:
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        return FileRecord(size, mtime_ns, broken=f"{path.name} cannot be read: {exc.strerror or exc}")
    problem = _pickle_problem(path, head, size)
    if problem:
        return FileRecord(size, mtime_ns, broken=problem, probe=PROBE_VERSION)
    kind = folder_kind or pickle_kind(path) or ("checkpoint" if size >= BIG_PICKLE else "vae")  # names, then size
    return FileRecord(size, mtime_ns, kind=kind, arch="unknown", probe=PROBE_VERSION)
