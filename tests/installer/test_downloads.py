"""Downloads against a real local server: verified files, resume, retries, sources, tokens, proxies."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from installer.downloads import DownloadSpec, RetryPolicy, SourceFailedError, download, fetch_file
from installer.downloads import http as dl_http
from installer.settings import Settings
from tests.installer.dl_helpers import (
    FAST,
    Recorder,
    leftovers,
    payload,
    sha,
    small_pieces,
    spec_for,
)
from tests.installer.fault_server import Faults, FaultServer

__all__ = ["small_pieces"]


def test_download_verified_and_renamed(server: FaultServer, tmp_path: Path) -> None:
    data = payload(300_000)
    url = server.add("/m.safetensors", data)
    rec = Recorder()
    path = download(spec_for(url, tmp_path, data), progress=rec, policy=FAST, connections=1)
    assert path == tmp_path / "model.safetensors"
    assert path.read_bytes() == data
    assert leftovers(tmp_path) == ["model.safetensors"]
    assert rec.reports[-1].state == "done" and rec.max_done() == len(data)
    assert "downloading" in rec.states and "verifying" in rec.states


def test_many_cuts_resume_with_if_range(server: FaultServer, tmp_path: Path) -> None:
    data = payload(400_000)
    url = server.add("/m", data, Faults(cuts=12), etag='"v1"')
    path = download(spec_for(url, tmp_path, data), policy=FAST, connections=1)
    assert path.read_bytes() == data
    ranged = [h for h in server.requests_for("/m") if "Range" in h]
    assert len(ranged) >= 8  # the server cut the body at random offsets, again and again
    assert all(h["If-Range"] == '"v1"' for h in ranged)
    assert leftovers(tmp_path) == ["model.safetensors"]


def test_parallel_connections_with_cuts(server: FaultServer, tmp_path: Path, small_pieces: None) -> None:
    data = payload(256 * 1024 + 123)
    url = server.add("/big", data, Faults(cuts=10))
    outcome = fetch_file(spec_for(url, tmp_path, data), policy=FAST, connections=4)
    assert outcome.path.read_bytes() == data and outcome.sha256 == sha(data)
    ranges = [h["Range"] for h in server.requests_for("/big") if "Range" in h]
    assert len({r for r in ranges if not r.endswith("-")}) >= 16  # many closed piece ranges


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried_honouring_retry_after(server: FaultServer, tmp_path: Path, status: int) -> None:
    data = payload(50_000)
    url = server.add("/m", data, Faults(statuses=[status], retry_after="1"))
    began = time.monotonic()
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=1).read_bytes() == data
    assert time.monotonic() - began >= 0.95  # waited the server's Retry-After: 1


def test_server_that_keeps_failing_gives_up_clearly(server: FaultServer, tmp_path: Path) -> None:
    data = payload(10_000)
    url = server.add("/m", data, Faults(statuses=[503] * 20))
    with pytest.raises(SourceFailedError, match="after 4 tries") as err:
        download(spec_for(url, tmp_path, data), policy=FAST, connections=1)
    assert err.value.hint
    assert not (tmp_path / "model.safetensors").exists()


def test_200_to_a_range_request_restarts_cleanly(server: FaultServer, tmp_path: Path) -> None:
    data = payload(300_000)
    url = server.add("/m", data, Faults(cuts=1, ignore_range=1))
    rec = Recorder()
    assert download(spec_for(url, tmp_path, data), progress=rec, policy=FAST, connections=1).read_bytes() == data
    dones = [p.done for p in rec.reports]
    assert 0 in dones[1:]  # progress went back to zero when the server restarted the file


def test_wrong_content_length_is_survived(server: FaultServer, tmp_path: Path) -> None:
    data = payload(200_000)
    url = server.add("/m", data, Faults(short_length=1, long_length=2))
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=1).read_bytes() == data


def test_stalled_connection_times_out_and_resumes(server: FaultServer, tmp_path: Path) -> None:
    data = payload(100_000)
    url = server.add("/m", data, Faults(stalls=1, stall_after=20_000, stall_s=4.0))
    began = time.monotonic()
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=1).read_bytes() == data
    assert time.monotonic() - began < 3.5
    assert server.requests_for("/m")[-1]["Range"] == "bytes=20000-"


def test_falls_back_to_the_next_source(server: FaultServer, tmp_path: Path) -> None:
    data = payload(30_000)
    good = server.add("/mirror/m", data)
    rec = Recorder()
    spec = spec_for([server.url("/missing"), good], tmp_path, data)
    assert download(spec, progress=rec, policy=FAST).read_bytes() == data
    assert rec.reports[-1].source == "src1"


def test_existing_verified_file_is_not_downloaded_again(server: FaultServer, tmp_path: Path) -> None:
    data = payload(20_000)
    url = server.add("/m", data)
    spec = spec_for(url, tmp_path, data)
    download(spec, policy=FAST)
    count = len(server.log)
    assert download(spec, policy=FAST).read_bytes() == data
    assert len(server.log) == count


def test_unknown_hash_takes_the_published_one(server: FaultServer, tmp_path: Path) -> None:
    data = payload(40_000)
    real = server.add("/cdn/blob", data)
    url = server.add_redirect("/repo/resolve/main/m.safetensors", real, {"X-Linked-Etag": f'"{sha(data)}"', "X-Linked-Size": str(len(data))})
    outcome = fetch_file(DownloadSpec([("huggingface", url)], tmp_path, "m.safetensors", None, None, "checkpoint"), policy=FAST)
    assert outcome.sha256 == sha(data) and outcome.size == len(data)


def test_unknown_hash_is_recorded_after(server: FaultServer, tmp_path: Path) -> None:
    data = payload(40_000)
    url = server.add("/m", data)
    outcome = fetch_file(spec_for(url, tmp_path, data, known=False), policy=FAST)
    assert outcome.sha256 == sha(data) and outcome.path.read_bytes() == data


def test_tokens_go_only_to_their_own_host(server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dl_http, "HF_HOSTS", {"127.0.0.1"})
    monkeypatch.setenv("CIVITAI_API_TOKEN", "civ-secret")
    data = payload(10_000)
    url = server.add("/m", data)
    download(spec_for(url, tmp_path, data), settings=Settings(hf_token="hf-secret"), policy=FAST)
    assert server.requests_for("/m")[0]["Authorization"] == "Bearer hf-secret"
    monkeypatch.setattr(dl_http, "HF_HOSTS", set())
    monkeypatch.setenv("HF_TOKEN", "env-secret")
    download(spec_for(url, tmp_path / "b", data), settings=Settings(), policy=FAST)
    assert "Authorization" not in server.requests_for("/m")[-1]
    monkeypatch.setattr(dl_http, "HF_HOSTS", {"127.0.0.1"})
    download(spec_for(url, tmp_path / "c", data), settings=Settings(), policy=FAST)
    assert server.requests_for("/m")[-1]["Authorization"] == "Bearer env-secret"


def test_proxy_from_settings_is_used(server: FaultServer, tmp_path: Path) -> None:
    data = payload(10_000)
    server.add("/via-proxy.bin", data)
    settings = Settings(proxy=server.url(""))
    spec = spec_for("http://models.maple-test.invalid/via-proxy.bin", tmp_path, data)
    assert download(spec, settings=settings, policy=FAST).read_bytes() == data
    assert server.log[-1][1].startswith("http://models.maple-test.invalid/")


def test_hasher_mixes_blocks_in_memory_and_reads_from_disk(tmp_path: Path) -> None:
    from installer.downloads.hasher import FollowingHasher

    data = payload(100_000)
    path = tmp_path / "f.part"
    path.write_bytes(data)
    released: list[int] = []
    hasher = FollowingHasher(path)
    hasher.advance(10_000)  # a resumed prefix, read back from disk
    for start, end in [(10_000, 40_000), (30_000, 60_000), (70_000, 90_000)]:  # overlap, then a gap read from disk
        hasher.feed(start, memoryview(data)[start:end], lambda s=start: released.append(s))
    hasher.advance(len(data))
    assert hasher.finish() == (sha(data), len(data))
    assert sorted(released) == [10_000, 30_000, 70_000]
    aborted = FollowingHasher(path)
    aborted.abort()
    aborted.feed(0, memoryview(data), lambda: released.append(-1))
    assert released[-1] == -1  # a stopped hasher hands buffers straight back


def test_an_unreachable_source_is_left_quickly(server: FaultServer, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/m.safetensors"
    data = payload(20_000)
    good = server.add("/m", data)
    slow = RetryPolicy(attempts=6, base_delay=1.0, max_delay=60, connect_timeout=2, read_timeout=2)
    began = time.monotonic()
    assert download(spec_for([dead, good], tmp_path, data), policy=slow).read_bytes() == data
    assert time.monotonic() - began < 5.0  # one retry, not six with growing back-off (about 30 s)


def test_pieces_follow_the_redirect_once(server: FaultServer, tmp_path: Path, small_pieces: None) -> None:
    data = payload(300_000)
    cdn = server.add("/cdn/blob", data)
    url = server.add_redirect("/org/repo/resolve/main/m.safetensors", cdn)
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=4).read_bytes() == data
    assert len(server.requests_for("/cdn/blob")) >= 10
    assert len(server.requests_for("/resolve/main/m.safetensors")) <= 2


def test_an_expired_redirect_target_is_asked_for_again(server: FaultServer, tmp_path: Path, small_pieces: None) -> None:
    data = payload(300_000)
    first = server.add("/cdn/signed-1", data, Faults(expire_after=4), etag='"same-object"')
    second = server.add("/cdn/signed-2", data, etag='"same-object"')
    url = server.add_redirect("/org/repo/resolve/main/m.safetensors", [first, second])
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=4).read_bytes() == data
    assert len(server.requests_for("/cdn/signed-2")) >= 5


@pytest.mark.parametrize(("faults", "back_to_one"), [(Faults(rate=150_000), False), (Faults(shared_rate=600_000), True)], ids=["per-connection-cap", "slow-line"])
def test_more_connections_only_while_they_help(server: FaultServer, tmp_path: Path, small_pieces: None, monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture, faults: Faults, back_to_one: bool) -> None:
    from installer.downloads import fetch as dl_fetch
    from installer.downloads import parallel as dl_parallel

    monkeypatch.setattr(dl_fetch, "PROBE_S", 0.3)
    monkeypatch.setattr(dl_parallel, "JUDGE_S", 0.6)
    data = payload(1_200_000)
    url = server.add("/m", data, faults)
    caplog.set_level("INFO", logger="installer.downloads")
    assert download(spec_for(url, tmp_path, data), policy=FAST, connections=4).read_bytes() == data
    assert "using 4" in caplog.text
    assert ("going back to one" in caplog.text) is back_to_one


def test_a_compressed_reply_is_decoded(server: FaultServer, tmp_path: Path) -> None:
    import gzip

    data = payload(50_000)
    url = server.add("/m", gzip.compress(data), Faults(headers={"Content-Encoding": "gzip"}))
    spec = spec_for(url, tmp_path, data)
    spec.size = None
    assert download(spec, policy=FAST, connections=1).read_bytes() == data
