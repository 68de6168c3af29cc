"""What the engine is started with, and what to do about the port. No Qt here: the headless start
and the window share it.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installer.settings import Settings

log = logging.getLogger(__name__)

ENGINE_CMD_ENV = "MAPLE_ENGINE_CMD"
READY_PATH = "/maple/v1/ready"
SHUTDOWN_PATH = "/maple/v1/shutdown"


def engine_program() -> list[str]:
    """The command that runs the engine: ``python -m engine`` unless ``MAPLE_ENGINE_CMD`` says otherwise."""
    custom = os.environ.get(ENGINE_CMD_ENV, "").strip()
    return shlex.split(custom) if custom else [sys.executable, "-m", "engine"]


def _flag_pairs(args: Sequence[str]) -> dict[str, str | None]:
    """``["--device", "cuda", "--listen"]`` -> ``{"--device": "cuda", "--listen": None}``."""
    pairs: dict[str, str | None] = {}
    i = 0
    while i < len(args):
        flag = args[i]
        value = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("--") else None
        pairs[flag] = value
        i += 2 if value is not None else 1
    return pairs


def engine_args(
    settings: Settings,
    home: Path,
    port: int,
    check_args: Sequence[str] = (),
    parent_pid: int | None = None,
) -> list[str]:
    """The engine's arguments: the check's advice for device/precision/VRAM, overridden by any
    setting that is not ``auto``, plus home, port, listen, auth, model and pickle."""
    flags = _flag_pairs(list(check_args))
    chosen: tuple[tuple[str, str], ...] = (
        ("--device", settings.device),
        ("--precision", settings.precision),
        ("--vram-mode", settings.vram_mode),
    )
    for flag, choice in chosen:
        if choice != "auto":
            flags[flag] = choice
    flags.update({"--home": str(home), "--port": str(port)})
    if settings.listen:
        flags["--listen"] = None
    if settings.api_auth:
        flags["--api-auth"] = settings.api_auth
    if settings.model:
        flags["--model"] = settings.model
    if settings.allow_pickle:
        flags["--allow-pickle"] = None
    if parent_pid is not None:
        flags["--parent-pid"] = str(parent_pid)
    out: list[str] = []
    for flag, value in flags.items():
        out += [flag] if value is None else [flag, value]
    return out


def redact(args: Sequence[str]) -> list[str]:
    """The arguments with the API password hidden, for logs and the console."""
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg == "--api-auth":
            out[i + 1] = out[i + 1].split(":", 1)[0] + ":***"
    return out


def shown_command(cmd: Sequence[str]) -> str:
    """The engine's command line as the console shows it: the password hidden, the interpreter by its
    file name (its folder is Maple's own), every argument quoted as this system's shell would need."""
    args = redact(cmd)
    if args and os.path.isabs(args[0]):
        args[0] = os.path.basename(args[0])
    if sys.platform == "win32":
        import subprocess

        return subprocess.list2cmdline(args)
    return shlex.join(args)


def local_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def probe_maple(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """The engine's ``/maple/v1/ready`` answer when a Maple engine serves on ``port``, else None."""
    try:
        with urllib.request.urlopen(local_url(port) + READY_PATH, timeout=timeout) as resp:
            data = json.loads(resp.read(65536).decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return data if isinstance(data, dict) and "ready" in data else None


def request_shutdown(port: int, timeout: float = 2.0) -> bool:
    """Ask the engine on ``port`` to leave; True when it said yes."""
    req = urllib.request.Request(local_url(port) + SHUTDOWN_PATH, data=b"{}", method="POST")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (OSError, urllib.error.URLError):
        return False


@dataclass(frozen=True)
class PortPlan:
    """Where the engine will serve: ``port`` to start on, or ``existing`` when one already serves.

    ``mine``: the engine already serving is this data home's own (on ``port``, maybe not the wanted one)."""

    wanted: int
    port: int
    existing: dict[str, Any] | None = None
    owner: str = ""
    mine: bool = False

    @property
    def moved(self) -> bool:
        return self.port != self.wanted and self.existing is None


def plan_port(wanted: int, home: Path | None = None, auth: str = "") -> PortPlan:
    """This home's engine already running (any port): attach. Port free: use it. Another Maple engine
    there: offer it (or, serving another data home, move on). Something else: the next free port."""
    from installer import running_engine
    from installer.machine.ports import next_free_port, port_in_use, port_owner

    own = running_engine.find(home, auth=auth) if home is not None else None
    if own is not None:
        return PortPlan(wanted, own.port, existing=own.to_json(), mine=True)
    if not port_in_use(wanted):
        return PortPlan(wanted, wanted)
    existing = probe_maple(wanted)
    if existing is not None:
        info = running_engine.ask_info(wanted, auth=auth)
        if home is None or info is None or not info.get("home"):  # an engine that does not say its home
            return PortPlan(wanted, wanted, existing=existing)
        if running_engine.same_home(info["home"], home):
            return PortPlan(wanted, wanted, existing=existing, mine=True)
        return PortPlan(wanted, next_free_port(wanted + 1), owner=f"Maple ({info['home']})")
    owner = port_owner(wanted)
    return PortPlan(wanted, next_free_port(wanted + 1), owner=_owner_text(owner))


def _owner_text(owner: object) -> str:
    if owner is None:
        return ""
    if isinstance(owner, str):
        return owner
    name = getattr(owner, "name", "") or ""
    pid = getattr(owner, "pid", None)
    return f"{name} (pid {pid})" if pid else str(name or owner)
