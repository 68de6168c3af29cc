"""Ending a process together with everything it started (psutil), without Qt."""

from __future__ import annotations

import contextlib
import logging

import psutil

log = logging.getLogger(__name__)


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants that still exist (children first)."""
    try:
        root = psutil.Process(pid)
        return [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return []


def kill_tree(pid: int, timeout: float = 3.0) -> int:
    """Terminate ``pid`` and its descendants, then kill what is left after ``timeout``.

    Returns how many processes had to be killed hard.
    """
    procs = tree(pid)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=timeout)
    if alive:
        log.warning("killed %d engine process(es) that did not stop", len(alive))
    return len(alive)


def alive(pids: list[int]) -> list[int]:
    """The pids in ``pids`` that still run (zombies count as gone)."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out
