"""The ``maple-models`` sub-commands other than ``pull``: list, catalog, verify, rm, add-folder."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from installer.cli.progress import ProgressBar
from installer.cli.tables import catalog_lines, model_lines
from installer.errors import MapleError, ModelNotFoundError
from installer.home import Home, resolve_home
from installer.settings import Settings, load_settings, save_settings
from installer.store.catalog import Catalog, load_catalog
from installer.store.model_store import ModelEntry, ModelStore, State, StoreProgress


@dataclass
class Context:
    home: Home
    settings: Settings
    catalog: Catalog
    store: ModelStore

    @classmethod
    def open(cls, home_arg: str | None) -> Context:
        home = resolve_home(home_arg).ensure()
        loaded = load_settings(home.settings_file)
        for problem in loaded.problems:
            print(f"maple-models: warning: {problem}", file=sys.stderr)
        catalog = load_catalog()
        return cls(home, loaded.settings, catalog, ModelStore(home, loaded.settings.shared_folders, catalog))


def _language(settings: Settings) -> str:
    if settings.language != "system":
        return settings.language
    env = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "zh" if env.lower().startswith("zh") else "en"


def find_entries(store: ModelStore, name: str) -> list[ModelEntry]:
    """Entries matching a name users type: A1111 name, file name, stem, short hash or catalog id."""
    wanted = name.strip().lower()
    entries = store.entries or store.scan()
    exact = [e for e in entries if wanted in (e.name.lower(), e.path.name.lower(), str(e.path).lower())]
    if exact:
        return exact
    return [e for e in entries if wanted in (e.path.stem.lower(), (e.catalog_id or "").lower())
            or (len(wanted) >= 6 and e.sha256 is not None and e.sha256.startswith(wanted))]


def find_one(store: ModelStore, name: str) -> ModelEntry:
    found = find_entries(store, name)
    if not found:
        raise ModelNotFoundError(f"No model named {name!r}")
    if len(found) > 1:
        where = ", ".join(str(e.path) for e in found)
        raise ModelNotFoundError(f"{name!r} matches {len(found)} files: {where}", "Give the full path.")
    return found[0]


def _feed(bar: ProgressBar) -> StoreProgress:
    return lambda done, total, _name: bar.update(done, total)


def _hash_with_bar(store: ModelStore) -> list[ModelEntry]:
    bar = ProgressBar("hashing")
    entries = store.hash_missing(progress=_feed(bar))
    bar.close()
    return entries


def cmd_list(ctx: Context, kind: str | None, as_json: bool, compute: bool) -> int:
    entries = _hash_with_bar(ctx.store) if compute else ctx.store.scan()
    entries = [e for e in entries if kind is None or e.kind == kind]
    if as_json:
        print(json.dumps([e.to_json() for e in entries], ensure_ascii=False, indent=2))
        return 0
    if not any(e.is_model for e in entries):
        print(f"No models yet in {ctx.home.root / 'models'}. Try `maple-models catalog` and `maple-models pull ID`.")
    if entries:
        print("\n".join(model_lines(entries, _language(ctx.settings))))
    return 0


def cmd_catalog(ctx: Context, as_json: bool) -> int:
    installed = {e.catalog_id for e in ctx.store.scan() if e.state is State.VERIFIED and e.catalog_id}
    lang = _language(ctx.settings)
    if as_json:
        rows = [{"id": e.id, "name": e.name, "kind": e.kind, "arch": e.arch, "file": e.file, "size": e.size,
                 "sha256": e.sha256, "verified": e.verified, "license": e.license, "installed": e.id in installed,
                 "description": e.description.get(lang), "sources": [s.name for s in e.sources]} for e in ctx.catalog]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print("\n".join(catalog_lines(list(ctx.catalog), installed, lang)))
    return 0


def cmd_verify(ctx: Context, name: str | None, every: bool) -> int:
    targets = [e for e in ctx.store.scan() if e.is_model] if every else [find_one(ctx.store, name or "")]
    bad = 0
    for target in targets:
        bar = ProgressBar(f"verifying {target.name}")
        entry = ctx.store.verify(target.path, progress=_feed(bar))
        detail = entry.reason or (f"matches {entry.catalog_id}" if entry.catalog_id else "not in the catalog")
        bar.clear()
        print(f"{entry.name}: {entry.state.value} ({entry.short_hash or '-'}) {detail}")
        bad += entry.state in (State.MISMATCH, State.BROKEN)
    if bad:
        print(f"{bad} file(s) are damaged or not what their name says: delete and download them again.",
              file=sys.stderr)
    return 1 if bad else 0


def cmd_rm(ctx: Context, name: str) -> int:
    entry = find_one(ctx.store, name)
    ctx.store.remove(entry.path)
    print(f"Moved {entry.path} to the trash.")
    return 0


def cmd_add_folder(ctx: Context, folder: str) -> int:
    path = Path(folder).expanduser().absolute()
    if not path.is_dir():
        raise MapleError(f"{path} is not a folder", "Give the folder of an A1111 / 秋叶 install or of model files.")
    known = [str(Path(f).expanduser().absolute()) for f in ctx.settings.shared_folders]
    if str(path) not in known:
        ctx.settings.shared_folders = [*ctx.settings.shared_folders, str(path)]
        save_settings(ctx.home.settings_file, ctx.settings)
    store = ModelStore(ctx.home, ctx.settings.shared_folders, ctx.catalog)
    given = next(f for f in ctx.settings.shared_folders if str(Path(f).expanduser().absolute()) == str(path))
    mine = [e for e in store.scan() if e.location == given]
    state = "already in use" if str(path) in known else "added"
    print(f"{path}: {state}. {found_text(mine)}, used in place (nothing copied).")
    broken = sum(1 for e in mine if not e.is_model)
    if broken:
        print(f"{counted(broken, 'file')} there cannot be used: `maple-models list` says why.")
    tell_engine(ctx.home, ctx.settings.api_auth)
    return 0


def tell_engine(home: Home, auth: str = "") -> None:
    """This home's engine, if it runs, lists the shared folders' models at once; else at its next start."""
    from installer import running_engine

    engine = running_engine.find(home.root, auth=auth)
    if engine is not None and running_engine.request_refresh(engine.port, auth=auth):
        print(f"The running engine ({engine.url}) lists them now.")


KIND_WORDS = {"checkpoint": "checkpoint", "vae": "VAE", "lora": "LoRA", "embedding": "embedding",
              "upscaler": "upscaler", "controlnet": "ControlNet", "unknown": "file of unknown kind"}


def counted(n: int, word: str) -> str:
    """``1 checkpoint``, ``2 checkpoints``, ``2 files of unknown kind``."""
    if n == 1:
        return f"1 {word}"
    head, _, rest = word.partition(" ")
    return f"{n} {head}s{' ' + rest if rest else ''}"


def found_text(entries: list[ModelEntry]) -> str:
    """``2 checkpoints, 1 VAE found`` for the usable files, every kind that is there."""
    kinds: dict[str, int] = {}
    for e in entries:
        if e.is_model:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
    if not kinds:
        return "no model files found"
    order = list(KIND_WORDS)
    parts = [counted(n, KIND_WORDS.get(k, k)) for k, n in sorted(kinds.items(), key=lambda kv: order.index(kv[0])
                                                                  if kv[0] in order else len(order))]
    return ", ".join(parts) + " found"
