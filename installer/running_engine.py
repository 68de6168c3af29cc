"""One Maple per data home: the engine says where it serves, and the others can tell it is theirs.

On start the engine writes ``cache/engine.json`` in its data home (pid, port, address, home) and
removes it when it stops. The launcher (window and terminal) and ``maple-doctor`` read that file
and ask the address's ``/maple/v1/info``, whose ``home`` must be this home: then the engine is this
home's own, whatever its port, and they attach to it instead of starting another or calling it a
foreign program. A stale file (the engine was killed) is ignored, and removed once its pid is gone.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FILE_NAME = "engine.json"
INFO_PATH = "/maple/v1/info"
REFRESH_PATH = "/sdapi/v1/refresh-checkpoints"


@dataclass(frozen=True)
class RunningEngine:
    """A Maple engine that serves ``home`` at ``url`` (port ``port``, process ``pid``)."""

    pid: int
    port: int
    url: str
    home: str

    def to_json(self) -> dict[str, Any]:
        return {"pid": self.pid, "port": self.port, "url": self.url, "home": self.home}


def record_path(home_root: Path) -> Path:
    return Path(home_root) / "cache" / FILE_NAME


def same_home(a: str | Path | None, b: str | Path | None) -> bool:
    """Whether two spellings of a data home are the same folder (case, links and ``..`` aside)."""
    if not a or not b:
        return False
    norm = [os.path.normcase(os.path.realpath(os.path.expanduser(str(x)))) for x in (a, b)]
    return norm[0] == norm[1]


def write_record(home_root: Path, engine: RunningEngine) -> None:
    """Say that this engine serves ``home_root`` (atomically; a failure is only logged)."""
    path = record_path(home_root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(engine.to_json(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("Cannot write %s: %s", path, exc)


def remove_record(home_root: Path, pid: int) -> None:
    """Remove the file if it is still the one engine ``pid`` wrote."""
    path = record_path(home_root)
    found = read_record(home_root)
    if found is not None and found.pid == pid:
        try:
            path.unlink()
        except OSError as exc:
            log.debug("Cannot remove %s: %s", path, exc)


def read_record(home_root: Path) -> RunningEngine | None:
    try:
        data = json.loads(record_path(home_root).read_text(encoding="utf-8"))
        return RunningEngine(int(data["pid"]), int(data["port"]), str(data["url"]), str(data["home"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _request(url: str, auth: str, data: bytes | None = None) -> urllib.request.Request:
    """A request to the engine, with the ``user:password`` of ``--api-auth`` when the settings have one."""
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode("utf-8")).decode("ascii"))
    return req


def ask_info(port: int, timeout: float = 1.0, host: str = "127.0.0.1", auth: str = "") -> dict[str, Any] | None:
    """A Maple engine's ``/maple/v1/info`` answer on ``port``; None when what serves there is not one."""
    try:
        with urllib.request.urlopen(_request(f"http://{host}:{port}{INFO_PATH}", auth), timeout=timeout) as resp:
            data = json.loads(resp.read(65536).decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return data if isinstance(data, dict) and "version" in data and "device" in data else None


def serves_home(info: dict[str, Any] | None, home_root: Path) -> bool:
    """Whether an ``/maple/v1/info`` answer comes from the engine of ``home_root``."""
    return info is not None and same_home(info.get("home"), home_root)


def find(home_root: Path, timeout: float = 2.0, auth: str = "") -> RunningEngine | None:
    """This home's engine, when its file names one that answers as this home's; else None."""
    found = read_record(home_root)
    if found is None:
        return None
    if serves_home(ask_info(found.port, timeout, auth=auth), home_root):
        return found
    if not _alive(found.pid):
        log.info("%s names an engine that is gone (pid %d); removing it", record_path(home_root), found.pid)
        remove_record(home_root, found.pid)
    return None


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def request_refresh(port: int, timeout: float = 60.0, host: str = "127.0.0.1", auth: str = "") -> bool:
    """Ask the engine on ``port`` to scan its model folders again (the shared folders changed)."""
    try:
        with urllib.request.urlopen(_request(f"http://{host}:{port}{REFRESH_PATH}", auth, b"{}"), timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (OSError, urllib.error.URLError):
        return False
