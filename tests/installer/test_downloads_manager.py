"""The download queue: a few at a time, progress per job, pause, resume and cancel."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from installer.downloads import DownloadManager, DownloadProgress
from tests.installer.dl_helpers import FAST, payload, spec_for, wait_for
from tests.installer.fault_server import Faults, FaultServer


class Updates:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[tuple[str, DownloadProgress]] = []
        self.running_at_once = 0
        self.latest: dict[str, str] = {}

    def __call__(self, job_id: str, p: DownloadProgress) -> None:
        with self.lock:
            self.log.append((job_id, p))
            self.latest[job_id] = p.state
            running = sum(1 for s in self.latest.values() if s in ("connecting", "downloading", "retrying"))
            self.running_at_once = max(self.running_at_once, running)


def test_queue_runs_two_at_a_time_with_progress(server: FaultServer, tmp_path: Path) -> None:
    data = [payload(300_000, seed=i) for i in range(4)]
    urls = [server.add(f"/m{i}", d, Faults(rate=600_000)) for i, d in enumerate(data)]
    manager = DownloadManager(max_parallel=2, policy=FAST, connections=1)
    updates = Updates()
    manager.on_update = updates
    ids = [manager.add(spec_for(u, tmp_path, d, name=f"m{i}.safetensors")) for i, (u, d) in enumerate(zip(urls, data, strict=True))]
    wait_for(lambda: all(j.state == "done" for j in manager.jobs()))
    manager.shutdown()
    assert updates.running_at_once == 2
    for i, job_id in enumerate(ids):
        job = next(j for j in manager.jobs() if j.id == job_id)
        assert job.path is not None and job.path.read_bytes() == data[i]
        reports = [p for jid, p in updates.log if jid == job_id and p.state == "downloading"]
        assert any(p.speed_bps > 0 and p.eta_s is not None and 0 < p.done < p.total for p in reports)  # type: ignore[operator]


def test_pause_resume_and_cancel(server: FaultServer, tmp_path: Path) -> None:
    a, b = payload(600_000, 1), payload(600_000, 2)
    ua = server.add("/a", a, Faults(rate=400_000))
    ub = server.add("/b", b, Faults(rate=400_000))
    manager = DownloadManager(max_parallel=2, policy=FAST, connections=1)
    ja = manager.add(spec_for(ua, tmp_path, a, name="a.safetensors"))
    jb = manager.add(spec_for(ub, tmp_path, b, name="b.safetensors"))
    state = lambda jid: next(j for j in manager.jobs() if j.id == jid)  # noqa: E731
    wait_for(lambda: state(ja).progress.done > 100_000 and state(jb).progress.done > 100_000)
    manager.pause(ja)
    manager.cancel(jb)
    time.sleep(0.5)
    paused_at = state(ja).progress.done
    assert state(ja).state == "paused" and state(jb).state == "cancelled"
    assert (tmp_path / "a.safetensors.part").exists() and (tmp_path / "b.safetensors.part").exists()
    time.sleep(0.3)
    assert state(ja).progress.done == paused_at  # nothing moves while paused
    server.resources["/a"].faults.rate = None
    manager.resume(ja)
    wait_for(lambda: state(ja).state == "done")
    assert (tmp_path / "a.safetensors").read_bytes() == a
    assert server.requests_for("/a")[-1]["Range"].startswith("bytes=")
    manager.cancel(jb, discard_part=True)
    assert not (tmp_path / "b.safetensors.part").exists()
    manager.shutdown()


def test_failure_is_reported_with_its_error(server: FaultServer, tmp_path: Path) -> None:
    data = payload(10_000)
    url = server.add("/bad", data, Faults(corrupt=True))
    manager = DownloadManager(policy=FAST)
    job_id = manager.add(spec_for(url, tmp_path, data))
    wait_for(lambda: manager.jobs()[0].state == "failed")
    job = manager.jobs()[0]
    assert job.id == job_id and job.error is not None and job.error.code == "hash-mismatch"
    manager.shutdown()


def test_adding_the_same_file_twice_gives_the_same_job(server: FaultServer, tmp_path: Path) -> None:
    data = payload(200_000)
    url = server.add("/m", data, Faults(rate=500_000))
    manager = DownloadManager(policy=FAST)
    spec = spec_for(url, tmp_path, data)
    assert manager.add(spec) == manager.add(spec)
    manager.shutdown()
