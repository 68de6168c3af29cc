"""Download states move only as allowed; the one-or-several-connections choice; the network settings view."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from installer.downloads import (
    DownloadManager,
    DownloadProgress,
    DownloadState,
    DownloadStateError,
    NetworkSettings,
    download,
)
from installer.downloads import http as dl_http
from installer.downloads.job import DownloadJob
from installer.downloads.network import network_of
from installer.downloads.progress import Meter
from installer.settings import Settings
from tests.installer.dl_helpers import FAST, Recorder, payload, small_pieces, spec_for, wait_for
from tests.installer.fault_server import Faults, FaultServer

__all__ = ["small_pieces"]

S = DownloadState


def test_states_compare_print_and_format_as_their_plain_value() -> None:
    assert S.DONE == "done" and str(S.PAUSED) == "paused" and f"{S.QUEUED}" == "queued"
    assert {"failed": 1}[S.FAILED] == 1
    assert DownloadProgress(0, None, 0.0, None, "retrying", "").state is S.RETRYING  # type: ignore[arg-type]


@pytest.mark.parametrize(("before", "after"), [
    ("done", "downloading"), ("failed", "done"), ("queued", "verifying"), ("cancelled", "connecting"), ("paused", "failed"),
])
def test_an_illegal_move_raises_a_clear_error(before: str, after: str) -> None:
    with pytest.raises(DownloadStateError) as caught:
        S(before).then(after)
    assert caught.value.message == f"A download cannot go from {before} to {after}"
    assert caught.value.code == "download-state" and "bug" in caught.value.hint


@pytest.mark.parametrize(("before", "after"), [
    ("queued", "connecting"), ("downloading", "retrying"), ("retrying", "downloading"), ("verifying", "connecting"),
    ("paused", "queued"), ("failed", "queued"), ("cancelled", "queued"), ("paused", "done"), ("done", "done"),
])
def test_the_moves_downloads_make_are_allowed(before: str, after: str) -> None:
    assert S(before).then(after) is S(after)


def test_the_meter_refuses_an_illegal_move_and_keeps_its_figures() -> None:
    reports: list[DownloadProgress] = []
    meter = Meter(reports.append)
    for state in (S.CONNECTING, S.DOWNLOADING, S.VERIFYING, S.DONE):
        meter.set(state=state)
    meter.set(done=100)
    with pytest.raises(DownloadStateError):
        meter.set(state=S.DOWNLOADING, done=5)
    assert (meter.state, meter.done) == (S.DONE, 100)
    assert [p.state for p in reports] == ["connecting", "downloading", "verifying", "done", "done"]


def test_a_job_refuses_a_report_that_moves_it_illegally(tmp_path: Path) -> None:
    job = DownloadJob("dl1", spec_for("http://127.0.0.1:9/m", tmp_path, b"x"), DownloadProgress(1, 1, 0.0, 0.0, S.DONE, "src0"))
    with pytest.raises(DownloadStateError):
        job.report(DownloadProgress(0, 1, 5.0, None, S.DOWNLOADING, "src0"))
    assert job.state is S.DONE and job.progress.done == 1


def test_every_state_a_real_download_reports_follows_from_the_one_before(server: FaultServer, tmp_path: Path,
                                                                         small_pieces: None) -> None:
    data = payload(300_000)
    bad = server.add("/bad", data, Faults(corrupt=True))  # verified, refused: on to the next source
    good = server.add("/good", data, Faults(cuts=3, statuses=[503]))
    rec = Recorder()
    assert download(spec_for([bad, good], tmp_path, data), progress=rec, policy=FAST, connections=4).read_bytes() == data
    states = [S(s) for s in rec.states]
    assert all(a.then(b) is b for a, b in zip(states, states[1:], strict=False))
    assert {S.CONNECTING, S.DOWNLOADING, S.RETRYING, S.VERIFYING} <= set(states) and states[-1] is S.DONE


def test_ranges_ignored_only_once_several_connections_were_opened(server: FaultServer, tmp_path: Path,
                                                                  small_pieces: None) -> None:
    """One stream (ranged) is slow, several are opened, their piece requests get the whole file:
    the download finishes over one connection (the choice is a value the runner follows)."""
    data = payload(300_000)
    url = server.add("/m", data, Faults(honour_first=1, ignore_range=-1))
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=4).read_bytes() == data
    ranges = [h.get("Range", "") for h in server.requests_for("/m")]
    assert ranges[0] == "bytes=0-" and len(ranges) >= 3  # the probe, a piece (answered whole), one stream


def test_the_network_view_is_frozen_and_follows_the_settings() -> None:
    net = network_of(Settings(proxy="http://proxy:3128", hf_token="hf", download_source="hf-mirror", language="zh"))
    assert net == NetworkSettings("http://proxy:3128", "hf", "", "hf-mirror", "zh")
    assert network_of(net) is net and network_of(None) == NetworkSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.proxy = ""  # type: ignore[misc]


def test_new_settings_reach_the_next_transfer_of_the_queue(server: FaultServer, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl_http, "HF_HOSTS", {"127.0.0.1"})
    data = payload(50_000)
    url = server.add("/m.safetensors", data)
    manager = DownloadManager(settings=Settings(hf_token="old"), policy=FAST, connections=1)
    try:
        manager.settings = Settings(hf_token="new")  # what the launcher does when the settings are saved
        assert manager.settings == NetworkSettings(hf_token="new")
        job_id = manager.add(spec_for(url, tmp_path, data))
        wait_for(lambda: next(j for j in manager.jobs() if j.id == job_id).state is S.DONE)
    finally:
        manager.shutdown()
    assert server.requests_for("/m.safetensors")[-1]["Authorization"] == "Bearer new"
