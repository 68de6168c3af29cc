"""Running a package tool as a child process that a cancel can stop at once."""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Sequence

from installer.engine_install.errors import InstallCancelled

log = logging.getLogger(__name__)

POLL_S = 0.1


def run_tool(cmd: Sequence[str], env: dict[str, str], cancel: threading.Event | None = None,
             timeout: float = 3600.0) -> tuple[int, str]:
    """Run ``cmd``; (exit code, stdout+stderr). A set ``cancel`` ends the child and raises InstallCancelled."""
    log.info("running %s", " ".join(cmd[:6]) + (" ..." if len(cmd) > 6 else ""))
    proc = subprocess.Popen(list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, encoding="utf-8", errors="replace")
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read() if proc.stdout else ""), daemon=True)
    reader.start()
    waited = 0.0
    while proc.poll() is None:
        if cancel is not None and cancel.wait(POLL_S):
            _end(proc)
            raise InstallCancelled("The engine install was cancelled.")
        waited += POLL_S if cancel is not None else 0.0
        if cancel is None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _end(proc)
        elif waited > timeout:
            _end(proc)
    reader.join(5)
    return int(proc.returncode), "".join(chunks)


def _end(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
