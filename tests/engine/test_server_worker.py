"""The single worker: FIFO queue, none lost, interrupt/skip, and errors that never kill it."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from engine.errors import BadRequestError, OutOfMemoryError, ShuttingDownError
from engine.server.progress import Progress
from engine.server.worker import Worker, is_oom


@pytest.fixture
def worker():
    w = Worker(Progress())
    w.start()
    yield w
    w.stop(2)


def test_jobs_run_one_at_a_time_in_order(worker) -> None:
    running = []
    order = []
    lock = threading.Lock()

    def job(n):
        def fn(control):
            with lock:
                running.append(n)
                assert len(running) == 1, "two jobs ran at once"
            time.sleep(0.01)
            order.append(n)
            with lock:
                running.remove(n)
            return n * 10
        return fn

    futures = []
    threads = [threading.Thread(target=lambda i=i: futures.append((i, worker.submit("t", job(i))))) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = {i: f.result(5) for i, f in futures}
    assert results == {i: i * 10 for i in range(20)}
    assert sorted(order) == list(range(20))
    assert [i for i, _ in futures] == order  # first submitted, first served


def test_progress_and_interrupt(worker) -> None:
    started = threading.Event()

    def fn(control):
        for step in range(1, 1000):
            control.on_step(0, step, 1000, None)
            started.set()
            if control.should_interrupt():
                return ("stopped", step)
            time.sleep(0.005)
        return ("finished", 1000)

    future = worker.submit("txt2img", fn, job_count=2)
    assert started.wait(5)
    snap = worker.progress.snapshot()
    assert snap.job == "txt2img" and snap.job_count == 2 and snap.sampling_steps == 1000
    assert 0 < snap.progress < 0.5
    assert worker.interrupt()
    outcome, step = future.result(5)
    assert outcome == "stopped" and step < 1000
    assert worker.progress.snapshot().job == ""  # idle again
    assert not worker.interrupt()  # nothing running: nothing to interrupt
    assert worker.submit("next", lambda c: c.should_interrupt()).result(5) is False  # flag not carried over


def test_skip_is_cleared_by_generation(worker) -> None:
    seen = []
    go = threading.Event()

    def fn(control):
        go.wait(5)
        seen.append(control.should_skip())
        control.clear_skip()
        seen.append(control.should_skip())

    future = worker.submit("t", fn)
    time.sleep(0.05)
    assert worker.skip()
    go.set()
    future.result(5)
    assert seen == [True, False]


def test_errors_reach_the_caller_and_the_worker_goes_on(worker) -> None:
    def bad_request(control):
        raise BadRequestError("width: too wide")

    def crash(control):
        raise ZeroDivisionError("boom")

    with pytest.raises(BadRequestError, match="width"):
        worker.submit("a", bad_request).result(5)
    with pytest.raises(Exception) as info:
        worker.submit("b", crash).result(5)
    assert getattr(info.value, "code", "") == "internal" and "log reference E-" in str(info.value)
    assert "ZeroDivisionError" not in str(info.value)  # the type and text stay in the log
    assert worker.submit("c", lambda c: "alive").result(5) == "alive"


def test_cuda_oom_becomes_a_clear_error_with_a_hint(worker) -> None:
    def oom(control):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    with pytest.raises(OutOfMemoryError) as info:
        worker.submit("txt2img", oom).result(5)
    assert "out of memory" in info.value.message.lower() and "--vram-mode" in info.value.hint
    assert worker.submit("c", lambda c: "alive").result(5) == "alive"


def test_oom_recognised_by_message() -> None:
    assert is_oom(RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"))
    assert not is_oom(RuntimeError("shapes do not match"))


def test_stop_fails_queued_jobs_and_refuses_new_ones() -> None:
    w = Worker(Progress())
    w.start()
    gate = threading.Event()
    first = w.submit("slow", lambda c: gate.wait(5))
    queued = w.submit("queued", lambda c: "never")
    time.sleep(0.05)
    stopper = threading.Thread(target=w.stop, args=(3,))
    stopper.start()
    time.sleep(0.05)
    gate.set()
    stopper.join(5)
    assert first.result(1) is True
    with pytest.raises(ShuttingDownError):
        queued.result(1)
    with pytest.raises(ShuttingDownError):
        w.submit("late", lambda c: 1).result(1)
