"""Applying LoRAs to a loaded model: several at once, by weight, each file read only once.

``LoraManager.apply(model, [(path, weight), ...])`` (or ``LoraRef``s) makes exactly those LoRAs
active: new ones are read (kohya or diffusers format; kohya files with LDM block names are
remapped first) and loaded as PEFT adapters, ones no longer asked for are removed, and the weights
are set with ``set_adapters``. A weight of 0 leaves the model's output exactly as without the
LoRA. Files are kept in a small in-memory cache, so asking again does not reread the disk.
The applied names, weights and A1111 short hashes are recorded on the model for the infotext.
LyCORIS LoHa / LoKr files go the same way but are added to the weights in place (``lycoris``).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.jobs import LoraRef
from engine.models.errors import LoraError
from engine.models.loaded import LoadedModel
from engine.models.lora_keys import complete_te_attention, remap_ldm_lora, uses_ldm_names
from engine.models.lycoris import Patcher, is_lycoris
from installer.errors import BrokenModelError
from installer.store.hashing import lora_short_hash, sha256_file
from installer.store.modelfile import read_header

log = logging.getLogger(__name__)
LoraSpec = tuple[str | Path, float] | LoraRef


@dataclass(frozen=True)
class LoraFile:
    path: Path
    name: str
    short_hash: str
    state: dict[str, Any]


@dataclass(frozen=True)
class _Wanted:
    path: Path
    name: str
    weight: float
    short_hash: str


def _adapter_name(path: Path) -> str:
    return "lora_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]


def _wanted(spec: LoraSpec) -> _Wanted:
    if isinstance(spec, LoraRef):
        if not spec.path:
            raise LoraError(f"LoRA {spec.name!r} was not resolved to a file")
        return _Wanted(Path(spec.path), spec.name, float(spec.weight), spec.short_hash)
    path, weight = spec
    return _Wanted(Path(path), Path(path).stem, float(weight), "")


class LoraFileCache:
    """The last few LoRA files read, keyed by (path, size, mtime): shared by all models."""

    def __init__(self, max_files: int = 8) -> None:
        self._files: OrderedDict[tuple[str, int, int], LoraFile] = OrderedDict()
        self._max = max_files
        self.reads = 0  # how many times a file was read from disk

    def get(self, path: Path, name: str) -> LoraFile:
        try:
            st = path.stat()
        except OSError as exc:
            raise LoraError(f"LoRA file not found: {path}") from exc
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key in self._files:
            self._files.move_to_end(key)
            return self._files[key]
        lora = _read(path, name)
        self.reads += 1
        self._files[key] = lora
        while len(self._files) > self._max:
            self._files.popitem(last=False)
        return lora


FILE_CACHE = LoraFileCache()


def _read(path: Path, name: str) -> LoraFile:
    from safetensors.torch import load_file

    try:
        header = read_header(path)
        state = load_file(str(path))
    except BrokenModelError as exc:
        raise LoraError(exc.message) from exc
    except Exception as exc:
        raise LoraError(f"{path.name} cannot be read as a LoRA: {exc}") from exc
    short = lora_short_hash(sha256_file(path, start=header.data_offset))
    return LoraFile(path, name, short, state)


class LoraManager:
    """One per loaded model (``model.loras``); use ``apply_loras`` to get or create it."""

    def __init__(self, cache: LoraFileCache | None = None) -> None:
        self.cache = cache or FILE_CACHE
        self.loaded: dict[str, str] = {}  # adapter name -> path
        self.patcher = Patcher()  # the LyCORIS files in force

    def apply(self, model: LoadedModel, specs: Sequence[LoraSpec]) -> None:
        wanted = [_wanted(s) for s in specs]
        lycoris = [w for w in wanted if is_lycoris(self._file(w.path, w.name).state)]
        self.patcher.apply(model.pipe, [(str(w.path), self._file(w.path, w.name).state, w.weight) for w in lycoris])
        active = [w for w in wanted if w.weight != 0 and w not in lycoris]
        adapters = [self._ensure_loaded(model, w) for w in active]
        self._remove_unwanted(model, set(adapters))
        if adapters:
            model.pipe.set_adapters(adapters, [w.weight for w in active])
        model.applied_loras = {w.name: w.weight for w in wanted}
        model.lora_hashes = {w.name: w.short_hash or self._file(w.path, w.name).short_hash for w in wanted}

    def clear(self, model: LoadedModel) -> None:
        self.apply(model, [])

    def _ensure_loaded(self, model: LoadedModel, w: _Wanted) -> str:
        adapter = _adapter_name(w.path)
        if adapter in self.loaded:
            return adapter
        lora = self._file(w.path, w.name)
        state = lora.state
        if uses_ldm_names(state):
            state = remap_ldm_lora(state, model.pipe.unet.config)
        state = complete_te_attention(state)
        try:
            model.pipe.load_lora_weights(dict(state), adapter_name=adapter)
        except Exception as exc:  # PEFT/diffusers raise several types for keys that fit nothing
            raise LoraError(f"LoRA {w.name} does not fit this {model.arch} model: "
                            f"{exc.__class__.__name__}: {str(exc)[:300]}") from exc
        self.loaded[adapter] = str(w.path)
        log.info("LoRA %s loaded as %s", w.name, adapter)
        return adapter

    def _remove_unwanted(self, model: LoadedModel, keep: set[str]) -> None:
        gone = [a for a in self.loaded if a not in keep]
        if gone:
            model.pipe.delete_adapters(gone)
            for adapter in gone:
                del self.loaded[adapter]

    def _file(self, path: Path, name: str) -> LoraFile:
        return self.cache.get(path, name)


def apply_loras(model: LoadedModel, specs: Sequence[LoraSpec]) -> None:
    """Make exactly ``specs`` active on ``model`` (an empty list removes all LoRAs)."""
    if model.loras is None:
        if not specs:
            model.applied_loras, model.lora_hashes = {}, {}
            return
        model.loras = LoraManager()
    model.loras.apply(model, specs)
