"""``download()``: one file, through its sources in order, verified, renamed into place atomically."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import filelock

from installer.downloads.context import Route, Stopped, Stopper, Transfer
from installer.downloads.diskio import check_free_space
from installer.downloads.errors import (
    BadContentError,
    DownloadCancelled,
    DownloadError,
    DownloadInUseError,
    HashMismatchError,
    RangeMismatchError,
    SourceFailedError,
    SourceUnreachableError,
)
from installer.downloads.fetch import run_sequential
from installer.downloads.hints import unreachable_hint
from installer.downloads.http import RetryPolicy, make_session
from installer.downloads.lifecycle import DownloadState
from installer.downloads.names import safe_target
from installer.downloads.network import NetworkLike, NetworkSettings, network_of
from installer.downloads.parallel import run_parallel
from installer.downloads.progress import Meter, ProgressCallback
from installer.downloads.reach import check_name
from installer.downloads.spec import DownloadSpec
from installer.downloads.state import PartState, discard, load_state, lock_path, part_path
from installer.store.hashing import sha256_file

log = logging.getLogger(__name__)

DEFAULT_CONNECTIONS = 8
FALLBACK_ERRORS = (SourceFailedError, BadContentError, RangeMismatchError, HashMismatchError)


@dataclass(frozen=True)
class DownloadOutcome:
    path: Path
    sha256: str
    size: int
    source: str


@dataclass(frozen=True)
class _Run:
    """What every source of one download shares."""

    net: NetworkSettings
    policy: RetryPolicy
    stop: Stopper
    meter: Meter
    connections: int


def _resume_state(target: Path, spec: DownloadSpec, name: str, url: str) -> PartState:
    """The saved state if its bytes can be trusted for this source, else a fresh one (part discarded)."""
    old = load_state(target)
    same_file = old is not None and (old.url == url or (spec.sha256 is not None and old.sha256 == spec.sha256))
    if old is not None and same_file and (spec.sha256 is None or old.sha256 in (None, spec.sha256)):
        if old.url != url:  # another server's validator means nothing here; the sha256 guards the bytes
            old.etag = old.last_modified = None
        old.url, old.source = url, name
        return old
    if part_path(target).exists():
        log.info("Starting %s over: the partial file came from another source or version", target.name)
    discard(target)
    return PartState(url=url, source=name, size=spec.size, sha256=spec.sha256)


def _transfer(t: Transfer) -> tuple[str, int]:
    """Run the right kind of transfer for this state, then the one it asks for; returns (sha256, size) of the .part."""
    st = t.state
    if st.piece_size and t.size and st.url == t.url:
        route = run_parallel(t)
    else:
        route = run_sequential(t, allow_parallel=True)
    if route is Route.MORE_CONNECTIONS:
        route = run_parallel(t)
    if route is Route.ONE_CONNECTION:
        run_sequential(t, allow_parallel=False)
    assert t.hasher is not None
    return t.hasher.finish()


def _verify(t: Transfer, digest: str, got: int) -> None:
    if t.size is not None and got != t.size:
        raise HashMismatchError(f"{t.target.name} from {t.source} is {got} bytes, expected {t.size}")
    if t.sha256 and digest != t.sha256:
        raise HashMismatchError(f"{t.target.name} from {t.source} has sha256 {digest}, expected {t.sha256}")


def _one_source(spec: DownloadSpec, target: Path, name: str, url: str, run: _Run) -> DownloadOutcome:
    meter = run.meter
    meter.set(state=DownloadState.CONNECTING, source=name, total=spec.size)
    check_name(url, run.net)
    state = _resume_state(target, spec, name, url)
    session = make_session(run.net)
    t = Transfer(url, name, target, run.net, run.policy, session, meter, run.stop, state,
                 spec.size, spec.sha256, run.connections)
    try:
        digest, got = _transfer(t)
    finally:
        session.close()
        if t.hasher is not None:
            t.hasher.abort()
    meter.set(state=DownloadState.VERIFYING)
    try:
        _verify(t, digest, got)
    except HashMismatchError:
        discard(target)
        raise
    try:
        os.replace(part_path(target), target)
    except OSError as exc:
        raise DownloadError(f"{target.name} was verified but could not be renamed into place: {exc.strerror or exc}",
                            "Another program may be using the folder (an antivirus scan?); run the download again to finish it.") from exc
    discard(target)
    log.info("Downloaded %s (%d bytes, sha256 %s) from %s", target, got, digest, name)
    return DownloadOutcome(target, digest, got, name)


def _drop_if_empty(target: Path) -> None:
    """A source that failed before a byte arrived leaves nothing behind in the model folder."""
    state = load_state(target)
    if state is None or state.done_bytes() == 0:
        discard(target)


def _existing(spec: DownloadSpec, target: Path) -> DownloadOutcome | None:
    if not target.exists():
        return None
    size = target.stat().st_size
    digest = sha256_file(target) if spec.sha256 or spec.size in (None, size) else ""
    if (spec.size in (None, size)) and (spec.sha256 in (None, digest)):
        return DownloadOutcome(target, digest, size, "existing")
    raise DownloadError(f"{target} already exists and is a different file", "Rename or remove it, then download again.")


def _wait_paused(meter: Meter, pause: threading.Event | None, cancel: threading.Event | None) -> None:
    meter.set(state=DownloadState.PAUSED)
    while pause is not None and pause.is_set() and not (cancel is not None and cancel.is_set()):
        time.sleep(0.05)


def fetch_file(
    spec: DownloadSpec,
    *,
    settings: NetworkLike = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    pause: threading.Event | None = None,
    policy: RetryPolicy | None = None,
    connections: int = DEFAULT_CONNECTIONS,
) -> DownloadOutcome:
    """Like ``download`` but returns the sha256 and size too (to record a hash that was unknown).

    ``settings``: the user's settings or their network view (proxy, tokens); None: the environment's.
    """
    target = safe_target(spec.dest_dir, spec.filename)
    try:
        spec.dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"Cannot create the folder {spec.dest_dir}: {exc.strerror or exc}", "Choose a data home you can write to.") from exc
    if (done := _existing(spec, target)) is not None:
        return done
    meter = Meter(progress)
    run = _Run(network_of(settings), policy or RetryPolicy(), Stopper(cancel, pause), meter, max(1, connections))
    lock = filelock.FileLock(str(lock_path(target)), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise DownloadInUseError(f"{target.name} is already being downloaded") from exc
    try:
        return _run(spec, target, run, cancel, pause)
    except DownloadError:
        meter.set(state=DownloadState.CANCELLED if cancel and cancel.is_set() else DownloadState.FAILED)
        raise
    finally:
        lock.release()
        lock_path(target).unlink(missing_ok=True)


def _run(spec: DownloadSpec, target: Path, run: _Run, cancel: threading.Event | None, pause: threading.Event | None) -> DownloadOutcome:
    state = load_state(target)
    have = state.done_bytes() if state else 0
    expected = spec.size or int(spec.extra.get("approx_size") or 0)
    if expected:
        check_free_space(spec.dest_dir, max(expected - have, 0))
    errors: list[DownloadError] = []
    for name, url in spec.sources:
        while True:
            try:
                outcome = _one_source(spec, target, name, url, run)
                run.meter.set(state=DownloadState.DONE)
                return outcome
            except Stopped:
                if cancel is not None and cancel.is_set():
                    raise DownloadCancelled(f"The download of {target.name} was cancelled") from None
                _wait_paused(run.meter, pause, cancel)
            except FALLBACK_ERRORS as exc:
                log.warning("Source %s failed for %s: %s", name, target.name, exc.message)
                _drop_if_empty(target)
                errors.append(exc)
                if len(spec.sources) == 1 and not isinstance(exc, SourceUnreachableError):
                    raise
                break
    raise _final_error(target, spec.sources, errors)


def _final_error(target: Path, sources: list[tuple[str, str]], errors: list[DownloadError]) -> DownloadError:
    """One error for a download whose every source failed, naming each source's reason."""
    reasons = "; ".join(f"{n}: {e.message}" for (n, _), e in zip(sources, errors, strict=False))
    if all(isinstance(e, SourceUnreachableError) for e in errors):
        tried = tuple(n for n, _ in sources[:len(errors)])
        error = SourceUnreachableError(f"No download source could be reached for {target.name} ({reasons}). Are you offline?",
                                       unreachable_hint(tried))
        error.tried = tried
        return error
    kind = type(errors[-1]) if len({type(e) for e in errors}) == 1 else SourceFailedError
    return kind(f"Every source failed for {target.name}: {reasons}")
