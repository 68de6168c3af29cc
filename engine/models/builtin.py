"""The built-in shapes model: a small SD1 model, trained by Maple itself, that draws coloured shapes.

It ships in ``assets/models`` (``scripts/train_demo_model.py`` made it) with its outlined LoRA and is
copied into the home's checkpoint and LoRA folders when the home has no checkpoint, so a fresh
install draws "a red circle on a blue background, top left" with no download. It is an ordinary
A1111 single-file checkpoint (its config is named by the ``maple.config`` metadata) and loads
through the same code as users' files. When the shipped file is missing the engine falls back to
the noise demo (``engine.models.demo``).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

from installer.contract import BUILTIN_MODEL_FILENAME
from installer.home import Home

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent.parent / "assets" / "models"
BUILTIN_FILENAME = BUILTIN_MODEL_FILENAME
BUILTIN_LORA = "maple-shapes-outlined.safetensors"
BUILTIN_LABEL = "built-in, draws coloured shapes"
NATIVE_SIZE = 128  # the side the model was trained at
EXAMPLE_PROMPT = "a red circle on a blue background, top left"


def shipped(name: str = BUILTIN_FILENAME) -> Path:
    return ASSETS / name


def is_builtin_name(name: str) -> bool:
    return Path(name).name == BUILTIN_FILENAME


def _same(a: Path, b: Path) -> bool:
    """Whether ``b`` holds ``a``'s bytes: the copy keeps the shipped file's time, so a matching size and
    time say so without reading 14 MB at every start; other times are settled by the bytes (a newer
    Maple's weights have the same size as the older ones)."""
    if not b.is_file():
        return False
    sa, sb = a.stat(), b.stat()
    if sa.st_size != sb.st_size:
        return False
    if sa.st_mtime_ns == sb.st_mtime_ns:
        return True
    return hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def _copy(source: Path, target: Path) -> Path:
    """Copy atomically (a temp file beside the target, then a rename); an identical file is kept."""
    if _same(source, target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copy2(source, tmp)  # with the shipped file's time (see _same)
    tmp.replace(target)
    log.info("Copied Maple's built-in %s to %s", source.name, target)
    return target


def ensure_builtin_model(home: Home) -> Path | None:
    """The built-in model's path in the home (copied there with its LoRA first); None when it was not shipped."""
    source = shipped()
    if not source.is_file():
        log.warning("Maple's built-in model %s is missing from this installation", source)
        return None
    path = _copy(source, home.models_dir("checkpoint") / BUILTIN_FILENAME)
    lora = shipped(BUILTIN_LORA)
    if lora.is_file():
        _copy(lora, home.models_dir("lora") / BUILTIN_LORA)
    return path
