"""Load checkpoints into diffusers pipelines: offline, with clear errors, and switch safely.

Single files (.safetensors; .ckpt through torch's weights-only loader) go through diffusers'
``from_single_file`` with the matching config folder from assets/configs and
``local_files_only=True``; the tokenizers come from the shipped BPE files. diffusers folders load
with ``from_pretrained(local_files_only=True)``. Nothing here reaches the network.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from engine.models.configs import PIPELINE_CLASS, check_config_dir, components, load_tokenizer
from engine.models.device import free_memory, resolve_device, resolve_dtype
from engine.models.errors import ModelLoadError
from engine.models.loaded import LoadedModel
from engine.models.placement import meta_tensors, place, release, use_sdpa
from engine.models.prediction import apply_markers, set_prediction_type
from engine.models.sources import CheckpointInfo, inspect_checkpoint
from installer.errors import BrokenModelError, MapleError
from installer.store.hashing import sha256_file

if TYPE_CHECKING:
    import torch
    from diffusers import DiffusionPipeline
    from typing_extensions import Unpack

log = logging.getLogger(__name__)
_PATCH_LOCK = threading.Lock()
_SD_ONLY = {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}


class LoadOptions(TypedDict, total=False):
    """The keywords of ``load_checkpoint`` and ``switch_model``; ``_DEFAULTS`` has their defaults."""

    device: str | torch.device
    dtype: str | torch.dtype | None  # None/"auto": fp16 on CUDA/MPS, fp32 on CPU
    allow_pickle: bool
    vram_mode: str
    sha256: str | None  # from the registry's cache: saves hashing the file here
    name: str | None


_DEFAULTS: LoadOptions = {"device": "cpu", "dtype": None, "allow_pickle": False, "vram_mode": "high",
                          "sha256": None, "name": None}


def load_checkpoint(path: str | Path, **options: Unpack[LoadOptions]) -> LoadedModel:
    """Load a checkpoint file or diffusers folder; raises ``ModelLoadError`` subclasses."""
    start = time.perf_counter()
    model, dev, vram_mode = _load(path, options)
    _finish(model, dev, vram_mode)
    log.info("Loaded %s (%s, %s, %s) in %.1fs", model.name, model.arch, dev, model.dtype, time.perf_counter() - start)
    return model


def switch_model(current: LoadedModel | None, path: str | Path, **options: Unpack[LoadOptions]) -> LoadedModel:
    """Load ``path`` and free ``current`` only once the new model works.

    The new model is read into RAM first; if anything fails, ``current`` is untouched and the
    error propagates. Then ``current`` is released and the new one moved to its device.
    """
    new, dev, vram_mode = _load(path, options)
    if current is not None:
        unload(current)
    _finish(new, dev, vram_mode)
    return new


def _load(path: str | Path, given: LoadOptions) -> tuple[LoadedModel, torch.device, str]:
    """Both loads' keywords resolved, and the pipeline read and built in RAM (the CPU).

    Every check that can fail happens here; the model comes back with the device and VRAM mode
    it is meant for. An unknown keyword is a ``TypeError``, as for any function.
    """
    import torch

    unknown = sorted(set(given) - set(_DEFAULTS))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    options: LoadOptions = {**_DEFAULTS, **given}
    dev = resolve_device(options["device"])
    dt = resolve_dtype(options["dtype"], dev)
    info = inspect_checkpoint(Path(path), allow_pickle=options["allow_pickle"])
    pipe = _build(info, dt)
    apply_markers(pipe, info.v_prediction, info.zero_snr)
    model = LoadedModel(
        pipe=pipe, arch=info.arch, name=options["name"] or info.path.name, path=info.path,
        sha256=options["sha256"] or file_sha256(info.path), device=torch.device("cpu"), dtype=dt,
        config_dir=info.config_dir, format=info.format,
    )
    return model, dev, options["vram_mode"]


def _finish(model: LoadedModel, device: torch.device, vram_mode: str) -> None:
    """SDPA attention, the device per VRAM mode, then what needs the model running (SD2's type)."""
    use_sdpa(model.pipe)
    model.vram_mode = place(model.pipe, device, vram_mode)
    model.device = device
    if model.arch == "sd2" and model.format != "diffusers":
        set_prediction_type(model.pipe)


def unload(model: LoadedModel) -> None:
    """Free a model's memory now; the ``LoadedModel`` is unusable afterwards."""
    if model.pipe is None:
        return
    pipe, model.pipe = model.pipe, None
    release(pipe)
    if model.base_vae is not None:
        import torch

        if isinstance(model.base_vae, torch.nn.Module):
            model.base_vae.to("meta")
        model.base_vae = None
    model.loras = None
    del pipe
    free_memory()


_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str | None:
    """A file's sha256, remembered per (path, size, mtime) for this process; None for folders."""
    if path.is_dir():
        return None
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = sha256_file(path)
    return _HASHES[key]


def _build(info: CheckpointInfo, dtype: torch.dtype) -> DiffusionPipeline:
    try:
        pipe = _from_folder(info, dtype) if info.format == "diffusers" else _from_single_file(info, dtype)
    except MapleError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # diffusers reports shape/key problems in many exception types
        if exc.__class__.__name__ == "OutOfMemoryError":
            raise
        missing = _missing_keys(info) if "meta" in str(exc) else []
        if missing:
            raise BrokenModelError(f"{info.path.name} lacks weights the {info.arch} model needs: "
                                   + ", ".join(missing[:5])) from exc
        raise BrokenModelError(
            f"{info.path.name} does not load as a {info.arch} model: {exc.__class__.__name__}: {str(exc)[:300]}"
        ) from exc
    missing = meta_tensors(pipe)
    if missing:
        release(pipe)
        raise BrokenModelError(f"{info.path.name} lacks weights the {info.arch} model needs: {', '.join(missing)}")
    return pipe


def _missing_keys(info: CheckpointInfo) -> list[str]:
    """After a failed load: which tensors the config expects that the file does not have."""
    from engine.models.synth import instantiate, ldm_state_dict, model_names

    folder = info.config_dir
    if folder is None or info.format == "diffusers":
        return []
    try:
        expected = ldm_state_dict(folder, {n: instantiate(folder, n, "meta").state_dict() for n in model_names(folder)})
        if info.state_dict is not None:
            present = set(info.state_dict)
        else:
            from installer.store.modelfile import read_header

            present = set(read_header(info.path).tensors)
    except Exception:  # only a better message is at stake
        return []
    return sorted(set(expected) - present)


def _pipeline_class(arch: str) -> type[DiffusionPipeline]:
    import diffusers

    cls: type[DiffusionPipeline] = getattr(diffusers, PIPELINE_CLASS[arch])
    return cls


def _from_single_file(info: CheckpointInfo, dtype: torch.dtype) -> DiffusionPipeline:
    folder = info.config_dir
    if folder is None:
        raise ModelLoadError(f"No configuration for {info.path.name}")
    check_config_dir(folder)
    kwargs: dict[str, Any] = {n: load_tokenizer(folder, n) for n in components(folder) if n.startswith("tokenizer")}
    if "XL" not in PIPELINE_CLASS[info.arch]:
        kwargs.update(_SD_ONLY)
    cls = _pipeline_class(info.arch)
    with _state_dict_source(info.state_dict):
        return cls.from_single_file(str(info.path), config=str(folder), local_files_only=True,
                                    torch_dtype=dtype, **kwargs)


def _from_folder(info: CheckpointInfo, dtype: torch.dtype) -> DiffusionPipeline:
    cls = _pipeline_class(info.arch)
    extra = dict(_SD_ONLY) if "XL" not in PIPELINE_CLASS[info.arch] else {}
    return cls.from_pretrained(str(info.path), local_files_only=True, torch_dtype=dtype, **extra)


@contextmanager
def _state_dict_source(state: dict[str, Any] | None) -> Iterator[None]:
    """Hand diffusers a .ckpt's tensors we read ourselves (weights-only, or pickle if allowed)."""
    if state is None:
        yield
        return
    import diffusers.loaders.single_file as single_file

    with _PATCH_LOCK:
        original = single_file.load_single_file_checkpoint
        single_file.load_single_file_checkpoint = lambda *_a, **_k: state
        try:
            yield
        finally:
            single_file.load_single_file_checkpoint = original
