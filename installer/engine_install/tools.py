"""The package tools: pip resolves (its JSON report names every wheel); pip or uv unpacks.

Both run isolated from the user's own pip/uv configuration (a stray ``PIP_INDEX_URL`` or
config file must not change what Maple installs) with the indexes and the proxy from Maple's
settings. ``uv`` is the ``uv`` binary (the PyPI ``uv`` wheel carries it); see docs/engine-install.md
for why pip is the default.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("pip", "uv")
TOOL_ENV = "MAPLE_INSTALL_TOOL"


@dataclass(frozen=True)
class Indexes:
    """``package``: the index for everything ("" = the tool's default); ``torch``: where torch and
    torchvision come from ("" = the package index)."""

    package: str = ""
    torch: str = ""
    proxy: str = ""


def clean_env(proxy: str = "", base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a tool: no PIP_*/UV_* from the user, the proxy from settings if any."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.upper().startswith(("PIP_", "UV_"))}
    env["PYTHONIOENCODING"] = "utf-8"
    if proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env[name] = proxy
    return env


def _index_args(indexes: Indexes) -> list[str]:
    args = ["--index-url", indexes.package] if indexes.package else []
    if indexes.torch and indexes.torch != indexes.package:
        args += ["--extra-index-url", indexes.torch]
    return args


def pip_resolve(requirements: Sequence[str], indexes: Indexes, report: Path, constraints: Path | None,
                cache: Path, python: str = sys.executable) -> list[str]:
    """``pip install --dry-run --report``: resolves for this interpreter, downloads metadata only
    where the index serves it (PEP 658), installs nothing."""
    cmd = [python, "-m", "pip", "install", "--isolated", "--disable-pip-version-check", "--no-input",
           "--dry-run", "--ignore-installed", "--only-binary=:all:", "--quiet", "--report", str(report),
           "--retries", "1", "--timeout", "20", "--cache-dir", str(cache), *_index_args(indexes)]
    if indexes.proxy:
        cmd += ["--proxy", indexes.proxy]
    if constraints is not None:
        cmd += ["-c", str(constraints)]
    return [*cmd, *requirements]


def pip_install(wheels: Sequence[Path], target: Path, python: str = sys.executable) -> list[str]:
    return [python, "-m", "pip", "install", "--isolated", "--disable-pip-version-check", "--no-input",
            "--no-index", "--no-deps", "--no-compile", "--no-cache-dir", "--quiet", "--target", str(target),
            *map(str, wheels)]


def uv_binary() -> str | None:
    """The uv executable: the ``uv`` package's own, else one on PATH."""
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def uv_install(wheels: Sequence[Path], target: Path, uv: str, python: str = sys.executable) -> list[str]:
    return [uv, "pip", "install", "--no-config", "--offline", "--no-index", "--no-deps", "--no-cache",
            "--link-mode", "copy", "--quiet", "--python", python, "--target", str(target), *map(str, wheels)]


def install_command(tool: str, wheels: Sequence[Path], target: Path, python: str = sys.executable) -> list[str]:
    if tool == "uv":
        uv = uv_binary()
        if uv is None:
            raise FileNotFoundError("uv is not installed")
        return uv_install(wheels, target, uv, python)
    return pip_install(wheels, target, python)


def chosen_tool(env: dict[str, str] | None = None) -> str:
    value = (os.environ if env is None else env).get(TOOL_ENV, "pip").strip().lower()
    return value if value in TOOLS else "pip"
