"""The plan: every wheel the engine needs on this machine, with URL, sha256 and size.

pip resolves once (``--dry-run --report``) against the package index and the PyTorch index;
each wheel's size comes from a HEAD request, so the home page can say how big the install is
before a byte of it is downloaded. The plan is kept in ``plan.json`` for the next look.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from installer.engine_install import tools
from installer.engine_install.errors import IndexUnreachableError, ResolveError
from installer.engine_install.location import Layout
from installer.engine_install.run import run_tool

log = logging.getLogger(__name__)

UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Name or service not known|getaddrinfo failed|"
    r"Temporary failure in name resolution|Network is unreachable|No route to host|Connection refused|"
    r"ConnectTimeout|Read timed out|ProxyError|Max retries exceeded|nodename nor servname", re.IGNORECASE)
MISSING = re.compile(r"No matching distribution found for (\S+)|Could not find a version that satisfies the requirement (\S+)")


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    url: str
    filename: str
    sha256: str | None
    size: int | None = None

    @property
    def local_path(self) -> Path | None:
        """The file itself when the index is a folder on this machine (``file://``)."""
        parts = urlsplit(self.url)
        return Path(url2pathname(unquote(parts.path))) if parts.scheme == "file" else None


@dataclass(frozen=True)
class Plan:
    key: str  # what was asked: requirements and indexes (a plan for other ones is not reused)
    wheels: tuple[Wheel, ...]

    @property
    def total_bytes(self) -> int:
        return sum(w.size or 0 for w in self.wheels)

    @property
    def sizes_known(self) -> bool:
        return all(w.size is not None for w in self.wheels)

    def wheel(self, name: str) -> Wheel | None:
        return next((w for w in self.wheels if w.name == name), None)

    def to_json(self) -> str:
        return json.dumps({"key": self.key, "wheels": [asdict(w) for w in self.wheels]}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data = json.loads(text)
        return cls(str(data["key"]), tuple(Wheel(**w) for w in data["wheels"]))


def plan_key(requirements: Sequence[str], indexes: tools.Indexes, constraints: Path | None) -> str:
    pins = constraints.read_text(encoding="utf-8") if constraints is not None and constraints.is_file() else ""
    digest = hashlib.sha256(pins.encode("utf-8")).hexdigest()[:16]
    return json.dumps([list(requirements), indexes.package, indexes.torch, digest])


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheels_from_report(report: dict[str, Any]) -> list[Wheel]:
    out = []
    for item in report.get("install", []):
        meta, info = item.get("metadata", {}), item.get("download_info", {})
        url = str(info.get("url", ""))
        hashes = (info.get("archive_info") or {}).get("hashes") or {}
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        out.append(Wheel(_norm(str(meta.get("name", ""))), str(meta.get("version", "")), url, filename, hashes.get("sha256")))
    return out


def classify(output: str, indexes: tools.Indexes) -> Exception:
    """The error for a failed resolution, from what pip printed."""
    where = ", ".join(i for i in (indexes.package or "the default package index", indexes.torch) if i)
    if UNREACHABLE.search(output):
        return IndexUnreachableError(f"The package index could not be reached ({where}).")
    missing = MISSING.search(output)
    if missing:
        name = missing.group(1) or missing.group(2)
        return ResolveError(f"{name} is not on the package index ({where}).")
    last = [line for line in output.strip().splitlines() if line.strip()][-3:]
    return ResolveError("Working out the engine's packages failed: " + " / ".join(last))


def resolve(requirements: Sequence[str], indexes: tools.Indexes, where: Layout, constraints: Path | None,
            cancel: threading.Event | None = None, python: str | None = None) -> list[Wheel]:
    where.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="resolve-", dir=where.root) as tmp:
        report = Path(tmp) / "report.json"
        cmd = tools.pip_resolve(requirements, indexes, report, constraints, where.root / "pip-cache",
                                python or tools.sys.executable)
        code, output = run_tool(cmd, tools.clean_env(indexes.proxy), cancel)
        if code != 0 or not report.exists():
            raise classify(output, indexes)
        return wheels_from_report(json.loads(report.read_text(encoding="utf-8")))


def _size(wheel: Wheel, session: Any) -> Wheel:
    local = wheel.local_path
    if local is not None:
        return Wheel(**{**asdict(wheel), "size": local.stat().st_size if local.exists() else None})
    try:
        resp = session.head(wheel.url, allow_redirects=True, timeout=(10, 20))
        length = resp.headers.get("Content-Length") if resp.status_code == 200 else None
    except Exception as exc:  # a size we cannot learn is shown as unknown, the install still runs
        log.info("size of %s unknown: %s", wheel.filename, exc)
        length = None
    return Wheel(**{**asdict(wheel), "size": int(length) if length and length.isdigit() else None})


def measure(wheels: Sequence[Wheel], proxy: str = "") -> list[Wheel]:
    """Each wheel with its size (HEAD requests, eight at a time; a local file's own size)."""
    if all(w.local_path is not None for w in wheels):  # a folder index: no network, no session
        return [_size(w, None) for w in wheels]
    from installer.downloads.http import make_session
    from installer.downloads.network import NetworkSettings

    session = make_session(NetworkSettings(proxy=proxy), pool=8)
    try:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda w: _size(w, session), wheels))
    finally:
        session.close()


def make_plan(requirements: Sequence[str], indexes: tools.Indexes, where: Layout, constraints: Path | None = None,
              cancel: threading.Event | None = None, python: str | None = None,
              log_line: Callable[[str], None] | None = None) -> Plan:
    """The plan, from ``plan.json`` when it was made for the same request, else resolved now."""
    key = plan_key(requirements, indexes, constraints)
    saved = cached_plan(where, key)
    if saved is not None:
        return saved
    if log_line:
        log_line("resolving")
    wheels = measure(resolve(requirements, indexes, where, constraints, cancel, python), indexes.proxy)
    plan = Plan(key, tuple(wheels))
    _save(where, plan)
    return plan


def cached_plan(where: Layout, key: str) -> Plan | None:
    try:
        plan = Plan.from_json((where.root / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return plan if plan.key == key else None


def _save(where: Layout, plan: Plan) -> None:
    """Written beside and renamed over, so a reader sees a whole plan or none."""
    tmp = where.root / "plan.json.tmp"
    try:
        tmp.write_text(plan.to_json(), encoding="utf-8")
        os.replace(tmp, where.root / "plan.json")
    except OSError as exc:
        log.info("plan not kept: %s", exc)


def discard_plan(where: Layout) -> None:
    with contextlib.suppress(OSError):
        os.unlink(where.root / "plan.json")
