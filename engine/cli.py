"""The engine's command line: flags, their defaults (settings.json, then the machine check) and checks.

Nothing heavy here: parsing must stay fast because it runs before the socket is bound.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from installer import access
from installer.contract import DEFAULT_PORT, DEVICES, PRECISIONS, VRAM_MODES
from installer.home import Home, resolve_home

log = logging.getLogger(__name__)


class UsageError(Exception):
    """A flag combination the engine refuses; the message is shown to the user."""


@dataclass(frozen=True)
class EngineConfig:
    home: Home
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_auth: str = ""
    device: str = "auto"
    precision: str = "auto"
    vram_mode: str = "auto"
    vram_mode_sdxl: str = ""  # the machine check's mode for SDXL models ("" = same as vram_mode)
    model: str = ""
    allow_pickle: bool = False
    parent_pid: int | None = None
    shared_folders: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # Host names served besides this machine's loopback ones
    cors_allow_origins: tuple[str, ...] = ()  # web sites granted CORS (A1111's --cors-allow-origins)

    @property
    def listening(self) -> bool:
        return self.host not in ("127.0.0.1", "localhost", "::1")

    @property
    def auth_pair(self) -> tuple[str, str] | None:
        if not self.api_auth:
            return None
        user, _, password = self.api_auth.partition(":")
        return user, password


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="maple-engine", description="Maple's Stable Diffusion engine (A1111-compatible API).")
    p.add_argument("--home", help="data home (default: MAPLE_HOME, portable folder or the user data folder)")
    p.add_argument("--port", type=int, default=None, help=f"port to serve on (default {DEFAULT_PORT}; the next free one if taken)")
    p.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    p.add_argument("--listen", action="store_true", default=None, help="serve on all interfaces (needs --api-auth)")
    p.add_argument("--api-auth", default=None, metavar="USER:PASS", help="HTTP Basic credentials for every request")
    p.add_argument("--allowed-hosts", default=None, metavar="NAME[,NAME]",
                   help="with --listen: the Host names served (default: this machine's names and addresses)")
    p.add_argument("--cors-allow-origins", default=None, metavar="ORIGIN[,ORIGIN]",
                   help="web sites (https://host[:port]) whose pages may call the API")
    p.add_argument("--device", choices=DEVICES, default=None)
    p.add_argument("--precision", choices=PRECISIONS, default=None)
    p.add_argument("--vram-mode", choices=VRAM_MODES, default=None)
    p.add_argument("--model", default=None, help="checkpoint to start with (file name in models/Stable-diffusion)")
    p.add_argument("--allow-pickle", action="store_true", default=None, help="allow .ckpt files that need full unpickling")
    p.add_argument("--parent-pid", type=int, default=None, help="exit when this process goes away")
    return p


def _settings(home: Home) -> Any:
    from installer.settings import load_settings

    result = load_settings(home.settings_file)
    for problem in result.problems:
        log.warning("%s", problem)
    return result.settings


def shared_folders_now(home: Home) -> tuple[str, ...]:
    """The shared folders settings.json lists now: ``maple-models add-folder`` and the launcher change
    them while the engine runs, and the next refresh uses them."""
    return tuple(_settings(home).shared_folders)


def machine_defaults(home: Home) -> dict[str, str]:
    """Device/precision/VRAM mode the machine check recommends; empty when it cannot say."""
    try:
        from installer.machine import report as machine
    except ImportError:
        return {}
    try:
        rec = machine.check(home).recommendation
    except Exception as exc:  # the machine check is advisory: never block the engine on it
        log.warning("The machine check failed (%s); using automatic defaults.", exc)
        return {}
    return {"device": rec.device, "precision": rec.precision, "vram_mode": rec.vram_mode_for("sd1"),
            "vram_mode_sdxl": rec.vram_mode_for("sdxl")}


def with_machine_defaults(config: EngineConfig) -> EngineConfig:
    """``config`` with its ``auto`` device/precision/VRAM mode filled from the machine check.

    The engine calls this in its worker, after the socket is bound, so the check never delays the
    ``Running on local URL`` line.
    """
    if "auto" not in (config.device, config.precision, config.vram_mode):
        return config
    rec = machine_defaults(config.home)
    return replace(
        config,
        device=config.device if config.device != "auto" else rec.get("device", "auto"),
        precision=config.precision if config.precision != "auto" else rec.get("precision", "auto"),
        vram_mode=config.vram_mode if config.vram_mode != "auto" else rec.get("vram_mode", "auto"),
        vram_mode_sdxl=config.vram_mode_sdxl if config.vram_mode != "auto" else rec.get("vram_mode_sdxl", ""),
    )


def _pick(flag: Any, setting: Any, machine: str | None, fallback: str) -> str:
    for value in (flag, setting if setting != "auto" else None, machine):
        if value:
            return str(value)
    return fallback


def _check_port(port: int) -> int:
    if not 1 <= port <= 65535:
        raise UsageError(f"--port must be between 1 and 65535, not {port}")
    return port


def _check_auth(auth: str) -> str:
    problem = access.credential_problem(auth)
    if problem:
        raise UsageError(f"--api-auth: {problem}")
    return auth


def _names(flag: str, given: str | None, setting: list[str], check: Callable[[str], str]) -> tuple[str, ...]:
    """A comma-separated flag (or the setting's list), each item checked by ``check``."""
    try:
        return tuple(check(item) for item in access.split_list(given if given is not None else setting))
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from exc


def resolve_config(args: argparse.Namespace, env: dict[str, str] | None = None, probe_machine: bool = True) -> EngineConfig:
    """Turn parsed flags into the engine's configuration; raises ``UsageError`` on refusals."""
    home = resolve_home(args.home, env).ensure()
    s = _settings(home)
    chosen = [args.device or s.device, args.precision or s.precision, args.vram_mode or s.vram_mode]
    rec = machine_defaults(home) if probe_machine and "auto" in chosen else {}
    listen = bool(args.listen if args.listen is not None else s.listen)
    host = args.host or ("0.0.0.0" if listen else "127.0.0.1")
    auth = _check_auth(args.api_auth if args.api_auth is not None else s.api_auth)
    config = EngineConfig(
        home=home,
        host=host,
        port=_check_port(args.port if args.port is not None else s.port),
        api_auth=auth,
        device=_pick(args.device, s.device, rec.get("device"), "auto"),
        precision=_pick(args.precision, s.precision, rec.get("precision"), "auto"),
        vram_mode=_pick(args.vram_mode, s.vram_mode, rec.get("vram_mode"), "auto"),
        vram_mode_sdxl=rec.get("vram_mode_sdxl", "") if _pick(args.vram_mode, s.vram_mode, None, "auto") == "auto" else "",
        model=args.model or s.model or "",
        allow_pickle=bool(args.allow_pickle if args.allow_pickle is not None else s.allow_pickle),
        parent_pid=args.parent_pid,
        shared_folders=tuple(s.shared_folders),
        allowed_hosts=_names("--allowed-hosts", args.allowed_hosts, s.allowed_hosts, access.normalize_host),
        cors_allow_origins=_names("--cors-allow-origins", args.cors_allow_origins, s.cors_allow_origins,
                                  access.normalize_origin),
    )
    if config.listening and not config.api_auth:
        raise UsageError(
            f"Refusing to serve on {host} without a password: add --api-auth user:password "
            "(anyone on the network could otherwise use this engine)."
        )
    return config


def parse(argv: list[str] | None = None, env: dict[str, str] | None = None, probe_machine: bool = True) -> EngineConfig:
    args = build_parser().parse_args(argv)
    return resolve_config(args, env, probe_machine)
