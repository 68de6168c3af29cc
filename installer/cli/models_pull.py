"""``maple-models pull``: download a catalog model or a model link, with a progress bar.

The download itself is ``installer.downloads`` (resumable, verified before it is renamed into the
model folder). Ctrl-C pauses it: the partial file is kept and the same command resumes it.
"""

from __future__ import annotations

import difflib
import sys
import threading
from pathlib import Path
from typing import Any

from installer.cli.models_commands import Context
from installer.cli.progress import ProgressBar
from installer.display import arch_name
from installer.downloads.errors import SourceUnreachableError
from installer.downloads.hints import unreachable_hint
from installer.errors import DownloadError, MapleError
from installer.store.catalog import CatalogError
from installer.store.hash_cache import remember_hash
from installer.store.model_store import ModelEntry


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _catalog_spec(ctx: Context, entry_id: str, sha256: str | None) -> Any:
    from installer.downloads import spec_from_catalog

    entry = ctx.catalog.by_id(entry_id)
    if entry is None:
        close = difflib.get_close_matches(entry_id, [e.id for e in ctx.catalog], n=3)
        hint = f"Did you mean {', '.join(close)}?" if close else "Run `maple-models catalog` for the ids, or give a link."
        raise CatalogError(f"{entry_id!r} is neither a catalog id nor a link", hint)
    spec = spec_from_catalog(entry, ctx.home, ctx.settings)
    if sha256:
        wanted = sha256.strip().lower()
        if entry.sha256 and wanted != entry.sha256:
            raise CatalogError(f"--sha256 differs from the catalog's sha256 for {entry.id} ({entry.sha256})",
                               "Leave out --sha256 to use the catalog's, or pull the file by its link.")
        spec.sha256 = wanted
    return spec


def build_spec(ctx: Context, target: str, source: str | None, sha256: str | None, kind: str | None) -> Any:
    from installer.downloads import resolve_url

    if _is_url(target):
        spec = resolve_url(target, ctx.home, ctx.settings, kind=kind, sha256=sha256)
    else:
        spec = _catalog_spec(ctx, target, sha256)
    if source:
        chosen = [pair for pair in spec.sources if pair[0] == source]
        if not chosen and source == "hf-mirror":  # asked for, even when the settings choose Hugging Face itself
            from installer.downloads.sources import mirror_url

            chosen = [("hf-mirror", m) for name, url in spec.sources if name == "huggingface" and (m := mirror_url(url))]
        if not chosen:
            names = ", ".join(name for name, _ in spec.sources)
            raise DownloadError(f"{spec.filename} has no {source} source (it has: {names})", "Choose one of those.")
        spec.sources = chosen
    return spec


def _run_download(spec: Any, ctx: Context, bar: ProgressBar, cancel: threading.Event) -> Any:
    from installer.downloads import fetch_file

    result: dict[str, Any] = {}
    finished = threading.Event()

    def report(p: Any) -> None:
        bar.label = f"{spec.filename} <- {p.source}" + ("" if p.state == "downloading" else f" ({p.state})")
        bar.update(p.done, p.total, p.speed_bps, p.eta_s)

    def work() -> None:
        try:
            result["outcome"] = fetch_file(spec, settings=ctx.settings, progress=report, cancel=cancel)
        except BaseException as exc:  # handed to the main thread, which raises it
            result["error"] = exc
        finally:
            finished.set()

    threading.Thread(target=work, name="maple-pull", daemon=True).start()
    while not finished.is_set():
        try:
            finished.wait(0.2)  # (an interrupted Thread.join can misreport the thread as ended)
        except KeyboardInterrupt:
            cancel.set()
            print("\nStopping; the partial download is kept...", file=sys.stderr)
    if "error" in result:
        raise result["error"]
    return result["outcome"]


def _describe(entry: ModelEntry | None, spec: Any, catalog_id: str | None) -> str:
    if entry is not None and entry.catalog_id and entry.state.value == "verified":
        return f"verified: matches Maple's catalog entry {entry.catalog_id}"
    if spec.sha256:
        return "verified: matches the published sha256"
    return "recorded: the source published no hash to check against"


def cmd_pull(ctx: Context, target: str, source: str | None, sha256: str | None, kind: str | None) -> int:
    spec = build_spec(ctx, target, source, sha256, kind)
    bar = ProgressBar(spec.filename)
    cancel = threading.Event()
    try:
        outcome = _run_download(spec, ctx, bar, cancel)
    except MapleError as exc:
        bar.close(f"{spec.filename}: {'paused' if cancel.is_set() else 'failed'}")
        if cancel.is_set():
            print(f"Paused. Run the same command again to resume {spec.filename}.", file=sys.stderr)
            return 130
        if isinstance(exc, SourceUnreachableError):  # the flags and variables a CLI user has, not the settings page
            exc.hint = unreachable_hint(exc.tried, f"maple-models pull {target}")
        raise exc
    if outcome.source == "existing":
        bar.close(f"{spec.filename}: already downloaded, checked ({outcome.size:,} bytes)")
    else:
        bar.close(f"{spec.filename}: done ({outcome.size:,} bytes from {outcome.source})")
    entry = _record(ctx, Path(outcome.path), outcome.sha256)
    print(f"Saved {outcome.path}")
    print(f"  sha256 {outcome.sha256}  ({_describe(entry, spec, spec.extra.get('catalog_id'))})")
    if entry is not None:
        lora = f", LoRA hash {entry.lora_hash}" if entry.lora_hash else ""
        print(f"  {entry.kind}, {arch_name(entry.arch)}, model hash {entry.short_hash}{lora}")
    return 0


def _record(ctx: Context, path: Path, sha256: str) -> ModelEntry | None:
    """Put the hash the download computed into the cache, and return the store's view of the file."""
    if sha256:
        remember_hash(ctx.home.cache_dir / "hashes.json", path, sha256)
    ctx.store.cache = type(ctx.store.cache)(ctx.store.cache.path)  # re-read what was just remembered
    entry = next((e for e in ctx.store.scan() if e.path == path), None)
    if entry is not None and (entry.sha256 is None or (entry.kind == "lora" and entry.lora_hash is None)):
        entry = ctx.store.verify(path)
    return entry
