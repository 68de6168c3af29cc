"""The download queue: resume pressed right after pause, and unfinished jobs surviving a restart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.downloads import DownloadManager
from installer.home import Home
from tests.installer.dl_helpers import FAST, payload, spec_for, wait_for
from tests.installer.fault_server import Faults, FaultServer


def job_of(manager: DownloadManager, job_id: str):  # type: ignore[no-untyped-def]
    return next(j for j in manager.jobs() if j.id == job_id)


def saved_names(home: Home) -> list[str]:
    raw = json.loads((home.cache_dir / "downloads.json").read_text(encoding="utf-8"))
    return [job["filename"] for job in raw["jobs"]]


@pytest.mark.parametrize("max_parallel", [1, 2])
def test_resume_right_after_pause_continues_the_same_job(server: FaultServer, tmp_path: Path, max_parallel: int) -> None:
    data = payload(900_000)
    url = server.add("/m", data, Faults(rate=600_000))
    manager = DownloadManager(max_parallel=max_parallel, policy=FAST, connections=1)
    states: list[str] = []
    manager.on_update = lambda job_id, p: states.append(p.state)
    job_id = manager.add(spec_for(url, tmp_path, data))
    wait_for(lambda: job_of(manager, job_id).progress.done > 150_000)
    manager.pause(job_id)
    manager.resume(job_id)  # the same instant: the paused transfer still holds its file
    wait_for(lambda: job_of(manager, job_id).state in ("done", "failed"))
    job = job_of(manager, job_id)
    manager.shutdown()
    assert job.error is None and job.state == "done" and "failed" not in states
    assert (tmp_path / "model.safetensors").read_bytes() == data
    assert [j.id for j in manager.jobs()] == [job_id]  # the same job, not a new one
    ranges = [h.get("Range", "") for h in server.requests_for("/m")]
    assert any(r.startswith("bytes=") and not r.startswith("bytes=0-") for r in ranges)  # it continued


def test_unfinished_jobs_come_back_paused_after_a_restart(server: FaultServer, home: Home) -> None:
    big, small = payload(800_000, 1), payload(20_000, 2)
    slow = server.add("/big", big, Faults(rate=300_000))
    quick = server.add("/small", small)
    folder = home.models_dir("checkpoint")
    first = DownloadManager(home=home, policy=FAST, connections=1)
    running = first.add(spec_for(slow, folder, big, name="big.safetensors"))
    finished = first.add(spec_for(quick, folder, small, name="small.safetensors"))
    wait_for(lambda: job_of(first, running).progress.done > 100_000 and job_of(first, finished).state == "done")
    assert saved_names(home) == ["big.safetensors"]  # on disk while it runs: a crash now loses nothing
    first.shutdown()  # stands in for the crash: the workers stop, the .part stays
    assert (folder / "big.safetensors.part").exists()

    second = DownloadManager(home=home, policy=FAST, connections=1)
    [restored] = second.restore()
    job = job_of(second, restored)
    assert job.state == "paused" and job.spec.filename == "big.safetensors" and job.spec.sha256 == spec_for(slow, folder, big).sha256
    assert 100_000 <= job.progress.done < len(big) and job.progress.total == len(big)  # shown from the .part
    server.resources["/big"].faults.rate = None
    second.resume(restored)
    wait_for(lambda: job_of(second, restored).state == "done")
    second.shutdown()
    assert (folder / "big.safetensors").read_bytes() == big
    assert server.requests_for("/big")[-1]["Range"].startswith("bytes=") and not server.requests_for("/big")[-1]["Range"].startswith("bytes=0-")
    assert saved_names(home) == []
    assert DownloadManager(home=home).restore() == []


def test_a_cancelled_job_is_forgotten_and_one_added_before_restore_keeps_the_rest(server: FaultServer, home: Home) -> None:
    a, b = payload(500_000, 3), payload(500_000, 4)
    ua, ub = server.add("/a", a, Faults(rate=200_000)), server.add("/b", b, Faults(rate=200_000))
    folder = home.models_dir("lora")
    first = DownloadManager(home=home, policy=FAST, connections=1)
    ja = first.add(spec_for(ua, folder, a, name="a.safetensors"))
    jb = first.add(spec_for(ub, folder, b, name="b.safetensors"))
    first.pause(ja)
    first.cancel(jb)
    first.shutdown()
    assert saved_names(home) == ["a.safetensors"]
    second = DownloadManager(home=home, policy=FAST, connections=1)
    jb2 = second.add(spec_for(ub, folder, b, name="b.safetensors"))  # before restore: a.safetensors stays saved
    second.pause(jb2)
    assert sorted(saved_names(home)) == ["a.safetensors", "b.safetensors"]
    [ja2] = second.restore()
    assert job_of(second, ja2).spec.filename == "a.safetensors" and job_of(second, ja2).state == "paused"
    second.shutdown()


def test_an_unreadable_queue_file_is_ignored(home: Home) -> None:
    (home.cache_dir / "downloads.json").write_text("{not json", encoding="utf-8")
    manager = DownloadManager(home=home)
    assert manager.restore() == []
    manager.shutdown()
    assert saved_names(home) == []


