"""The engine install, start to end: plan, download, unpack into staging, verify, swap.

``install_engine(request, progress, cancel)`` is a plain work function (the launcher runs it in
a worker, the command line directly). Whatever stops it (an error, a cancel, a kill) leaves the
live engine packages as they were: only :func:`staging.swap` changes them, after the check.
"""

from __future__ import annotations

import errno
import json
import logging
import sys
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import filelock

from installer.engine_install import fetch, staging, tools
from installer.engine_install.choice import Choice, Outcome
from installer.engine_install.errors import (
    EngineInstallError,
    IndexUnreachableError,
    InstallBusyError,
    InstallCancelled,
    InstallDiskFullError,
    UnsupportedChoiceError,
)
from installer.engine_install.location import MANIFEST, Layout
from installer.engine_install.plan import Plan, discard_plan, make_plan
from installer.engine_install.progress import InstallProgress, ProgressFn
from installer.engine_install.requirements import ENGINE_REQUIREMENTS
from installer.engine_install.run import run_tool
from installer.engine_install.verify import Verified, verify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstallRequest:
    choice: Choice
    where: Layout
    indexes: tools.Indexes = field(default_factory=tools.Indexes)
    requirements: tuple[str, ...] = ENGINE_REQUIREMENTS
    constraints: Path | None = None
    tool: str = "pip"
    python: str = sys.executable
    consent: bool = False  # the user agreed to a build that leaves a GPU unused
    platform: str = sys.platform
    long_paths: bool = True  # Windows long paths enabled (the machine check knows)

    @property
    def all_requirements(self) -> list[str]:
        return [self.choice.torch_requirement, self.choice.torchvision_requirement, *self.requirements]


@dataclass(frozen=True)
class InstallResult:
    manifest: dict[str, Any]
    notes: tuple[str, ...] = ()


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise InstallCancelled("The engine install was cancelled.")


def plan_for(request: InstallRequest, cancel: threading.Event | None = None) -> Plan:
    return make_plan(request.all_requirements, request.indexes, request.where, request.constraints, cancel, request.python)


def install_engine(request: InstallRequest, progress: ProgressFn, cancel: threading.Event | None = None) -> InstallResult:
    choice = request.choice
    if choice.needs_consent and not request.consent:
        raise UnsupportedChoiceError(f"Not installing the {choice.build.label()} build without your agreement: {choice.key}")
    progress(InstallProgress("checking"))
    staging.check_writable(request.where)
    lock = filelock.FileLock(str(request.where.lock), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise InstallBusyError("The engine is already being installed.") from exc
    try:
        notes = staging.recover(request.where)
        result = _run(request, progress, cancel)
        return InstallResult(result, tuple(notes))
    finally:
        lock.release()


def _run(request: InstallRequest, progress: ProgressFn, cancel: threading.Event | None) -> dict[str, Any]:
    where = request.where
    progress(InstallProgress("planning"))
    plan = plan_for(request, cancel)
    _check_cancel(cancel)
    fetch.check_space(plan, where.downloads, where.root)
    try:
        files = fetch.download_all(plan, where.downloads, progress, cancel, request.indexes.proxy)
    except IndexUnreachableError:
        discard_plan(where)  # the index may have changed: work the plan out again next time
        raise
    _check_cancel(cancel)
    staging.check_lengths(where.staging, longest_member(files), request.platform, request.long_paths)
    progress(InstallProgress("installing", plan.total_bytes, plan.total_bytes))
    try:
        _unpack(request, files, cancel)
        progress(InstallProgress("verifying", plan.total_bytes, plan.total_bytes))
        checked = _verify(request)
        manifest = _manifest(request, plan, checked)
        (where.staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except BaseException:
        staging.remove(where.staging)
        raise
    staging.swap(where)
    _tidy(where)
    progress(InstallProgress("done", plan.total_bytes, plan.total_bytes))
    log.info("engine installed in %s: torch %s", where.live, manifest["torch"])
    return manifest


def longest_member(files: Sequence[Path]) -> int:
    """The longest path inside any of the wheels (what the deepest installed file adds to the folder)."""
    longest = 0
    for path in files:
        with zipfile.ZipFile(path) as zf:
            longest = max([longest, *(len(n) for n in zf.namelist())])
    return longest


def _unpack(request: InstallRequest, files: Sequence[Path], cancel: threading.Event | None) -> None:
    target = request.where.staging
    staging.remove(target)
    target.mkdir(parents=True)
    cmd = tools.install_command(request.tool, files, target, request.python)
    code, output = run_tool(cmd, tools.clean_env(request.indexes.proxy), cancel)
    if code != 0:
        if "No space left" in output or "There is not enough space" in output or f"Errno {errno.ENOSPC}" in output:
            raise InstallDiskFullError("The disk filled up while unpacking the engine's packages.")
        tail = " / ".join(output.strip().splitlines()[-3:])
        raise EngineInstallError(f"Unpacking the engine's packages failed: {tail}")


def _verify(request: InstallRequest) -> Verified:
    choice = request.choice
    card = choice.params.get("capability") if choice.outcome is Outcome.GPU else None
    capability = tuple(card) if isinstance(card, (list, tuple)) and len(card) == 2 else None
    return verify(request.where.staging, capability, choice.outcome is Outcome.GPU, request.python)


def _manifest(request: InstallRequest, plan: Plan, checked: Verified) -> dict[str, Any]:
    choice = request.choice
    return {
        "version": 1, "installed": time.strftime("%Y-%m-%dT%H:%M:%S"), "variant": choice.build.variant,
        "build": choice.build.label(), "choice": choice.key, "torch": checked.torch, "diffusers": checked.diffusers,
        "cuda": checked.cuda, "arch_list": list(checked.arch_list), "device": checked.device,
        "wheels": [w.filename for w in plan.wheels], "bytes": plan.total_bytes, "tool": request.tool,
    }


def _tidy(where: Layout) -> None:
    """After a good install the downloaded wheels are not needed any more."""
    try:
        staging.remove(where.downloads)
    except OSError as exc:
        log.info("downloads not removed: %s", exc)
