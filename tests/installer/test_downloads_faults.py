"""Faults a download must survive or refuse: bad content, cancel/pause, SIGKILL, full disk, wrong ranges."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

import pytest

from installer.downloads import (
    BadContentError,
    DiskFullError,
    DownloadCancelled,
    DownloadInUseError,
    HashMismatchError,
    RangeMismatchError,
    SourceFailedError,
    diskio,
    download,
)
from tests.installer.dl_helpers import FAST, Recorder, leftovers, payload, small_pieces, spec_for
from tests.installer.fault_server import Faults, FaultServer

__all__ = ["small_pieces"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("body", "faults"),
    [
        (b"<html><body>Please log in</body></html>" * 10, Faults(content_type="text/html; charset=utf-8")),
        (b"<!DOCTYPE html>\n<html><head><title>502</title></head></html>", Faults()),
        (b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 4265146304\n", Faults(content_type="text/plain")),
    ],
    ids=["html-page", "html-as-binary", "lfs-pointer"],
)
def test_pages_and_pointers_never_become_models(server: FaultServer, tmp_path: Path, body: bytes, faults: Faults) -> None:
    url = server.add("/m", body, faults)
    spec = spec_for(url, tmp_path, payload(5000))
    with pytest.raises(BadContentError) as err:
        download(spec, policy=FAST)
    assert err.value.hint
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("connections", [1, 4])
def test_wrong_bytes_are_refused_and_removed(server: FaultServer, tmp_path: Path, small_pieces: None, connections: int) -> None:
    data = payload(200_000)
    url = server.add("/m", data, Faults(corrupt=True))
    with pytest.raises(HashMismatchError, match="expected"):
        download(spec_for(url, tmp_path, data), policy=FAST, connections=connections)
    assert leftovers(tmp_path) == []


def test_a_good_mirror_after_a_bad_source(server: FaultServer, tmp_path: Path) -> None:
    data = payload(50_000)
    bad = server.add("/bad", data, Faults(corrupt=True))
    good = server.add("/good", data)
    assert download(spec_for([bad, good], tmp_path, data), policy=FAST).read_bytes() == data


def test_206_from_the_wrong_offset_is_an_error(server: FaultServer, tmp_path: Path) -> None:
    data = payload(100_000)
    url = server.add("/m", data, Faults(cuts=1, wrong_offset=1))
    with pytest.raises(RangeMismatchError, match="answered a request for byte"):
        download(spec_for(url, tmp_path, data), policy=FAST, connections=1)
    assert not (tmp_path / "model.safetensors").exists()


def test_server_file_shorter_than_expected(server: FaultServer, tmp_path: Path) -> None:
    data = payload(50_000)
    url = server.add("/m", data[:-1000])
    with pytest.raises(SourceFailedError, match="not the expected 50000 bytes"):
        download(spec_for(url, tmp_path, data), policy=FAST, connections=1)
    assert not (tmp_path / "model.safetensors").exists()


@pytest.mark.parametrize("ignored", [-1, 3])
def test_parallel_falls_back_when_ranges_are_ignored(server: FaultServer, tmp_path: Path, small_pieces: None, ignored: int) -> None:
    data = payload(300_000)
    url = server.add("/m", data, Faults(ignore_range=ignored))
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=4).read_bytes() == data


def _stop_after(event: threading.Event, rec: Recorder, at: int):
    def progress(p):  # type: ignore[no-untyped-def]
        rec(p)
        if p.done >= at:
            event.set()
    return progress


@pytest.mark.parametrize("connections", [1, 4])
def test_cancel_keeps_the_part_and_a_new_call_resumes(server: FaultServer, tmp_path: Path, small_pieces: None, connections: int) -> None:
    data = payload(600_000)
    url = server.add("/m", data, Faults(rate=1_000_000))
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        download(spec_for(url, tmp_path, data), progress=_stop_after(cancel, Recorder(), 150_000), cancel=cancel, policy=FAST, connections=connections)
    assert sorted(leftovers(tmp_path)) == ["model.safetensors.part", "model.safetensors.part.json"]
    before = len(server.log)
    server.resources["/m"].faults.rate = None
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=connections).read_bytes() == data
    fetched = sum(_range_len(h.get("Range"), len(data)) for _, _, h in server.log[before:])
    assert fetched < len(data) - 100_000  # only the missing bytes were fetched again
    assert leftovers(tmp_path) == ["model.safetensors"]


def _range_len(header: str | None, size: int) -> int:
    if not header:
        return size
    first, _, last = header[6:].partition("-")
    return (int(last) if last else size - 1) - int(first) + 1


def test_pause_then_resume(server: FaultServer, tmp_path: Path) -> None:
    data = payload(500_000)
    url = server.add("/m", data, Faults(rate=1_000_000))
    pause, rec, paused_once = threading.Event(), Recorder(), threading.Event()

    def progress(p):  # type: ignore[no-untyped-def]
        rec(p)
        if p.done >= 100_000 and not paused_once.is_set():
            paused_once.set()
            pause.set()
            threading.Timer(1.0, pause.clear).start()

    began = time.monotonic()
    assert download(spec_for(url, tmp_path, data), progress=progress, pause=pause, policy=FAST, connections=1).read_bytes() == data
    assert "paused" in rec.states and time.monotonic() - began >= 1.0
    assert rec.states[-1] == "done"
    assert any(h.get("Range", "").startswith("bytes=") for h in server.requests_for("/m")[1:])


CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from installer.downloads import DownloadSpec, download, fetch, parallel
fetch.PARALLEL_MIN, fetch.CHUNK, fetch.PROBE_S, fetch.FAST_SINGLE = 64 * 1024, 16 * 1024, 0.0, float("inf")
parallel.MIN_PIECE = 16 * 1024
download(DownloadSpec([("src", {url!r})], Path({folder!r}), "model.safetensors", {size}, {sha!r}, "checkpoint"), connections={conns})
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("connections", [1, 4])
def test_sigkill_mid_way_then_a_new_process_resumes(server: FaultServer, tmp_path: Path, small_pieces: None, connections: int) -> None:
    data = payload(2_000_000)
    url = server.add("/m", data, Faults(rate=500_000 // connections))
    spec = spec_for(url, tmp_path, data)
    code = CHILD.format(root=str(ROOT), url=url, folder=str(tmp_path), size=spec.size, sha=spec.sha256, conns=connections)
    child = subprocess.Popen([sys.executable, "-c", code])
    state = tmp_path / "model.safetensors.part.json"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and child.poll() is None and not (state.exists() and sum(json.loads(state.read_text())["pieces"].values()) > 200_000):
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert not (tmp_path / "model.safetensors").exists()
    before = len(server.log)
    server.resources["/m"].faults.rate = None
    resumed = subprocess.run([sys.executable, "-c", code], timeout=60)
    assert resumed.returncode == 0
    assert (tmp_path / "model.safetensors").read_bytes() == data
    fetched = sum(_range_len(h.get("Range"), len(data)) for _, _, h in server.log[before:])
    assert fetched <= len(data) - 200_000


def test_full_disk_keeps_the_part_and_says_so(server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = payload(3_000_000)
    url = server.add("/m", data)
    written = {"n": 0}
    real = diskio._raw_write

    def filling(fh, view):  # type: ignore[no-untyped-def]
        if written["n"] > 1_000_000:
            raise OSError(errno.ENOSPC, "No space left on device")
        written["n"] += len(view)
        return real(fh, view)

    monkeypatch.setattr(diskio, "_raw_write", filling)
    with pytest.raises(DiskFullError, match="partial file was kept") as err:
        download(spec_for(url, tmp_path, data), policy=FAST, connections=1)
    assert "Free some disk space" in err.value.hint
    part = tmp_path / "model.safetensors.part"
    assert part.stat().st_size >= 1_000_000 and not (tmp_path / "model.safetensors").exists()
    monkeypatch.setattr(diskio, "_raw_write", real)
    before = len(server.log)
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=1).read_bytes() == data
    assert server.log[before][2]["Range"].startswith("bytes=1")


def test_not_enough_space_refuses_before_starting(server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = payload(10_000)
    url = server.add("/m", data)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(DiskFullError, match="Not enough disk space"):
        download(spec_for(url, tmp_path, data), policy=FAST)
    assert server.log == []


def test_same_file_twice_at_once_is_refused(server: FaultServer, tmp_path: Path) -> None:
    data = payload(400_000)
    url = server.add("/m", data, Faults(rate=400_000))
    first = threading.Thread(target=download, args=(spec_for(url, tmp_path, data),), kwargs={"policy": FAST, "connections": 1})
    first.start()
    while not (tmp_path / "model.safetensors.part").exists():
        time.sleep(0.01)
    with pytest.raises(DownloadInUseError):
        download(spec_for(url, tmp_path, data), policy=FAST)
    first.join()
    assert (tmp_path / "model.safetensors").read_bytes() == data
