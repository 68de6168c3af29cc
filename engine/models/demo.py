"""The embedded demo model: a tiny SD1-shaped checkpoint with fixed random weights.

Written into the home's checkpoint folder when there is nothing else to load, so every path
(API, web page, saving, infotext) works with no GPU and no download. It is a real single-file
checkpoint in A1111's key layout, marked with the safetensors metadata ``maple.demo``; it draws
noise, and the model lists say so.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from installer.errors import BrokenModelError
from installer.home import MODEL_EXTENSIONS, Home
from installer.store.modelfile import DEMO_METADATA_KEY, inspect

log = logging.getLogger(__name__)

DEMO_FILENAME = "maple-demo-noise.safetensors"
DEMO_SEED = 20240601
# One key only: safetensors writes metadata in hash-map order, so more keys would vary the bytes.
DEMO_METADATA = {DEMO_METADATA_KEY: "1"}
DEMO_LABEL = "demo, draws noise"
DEMO_SHAPES = Path(__file__).with_name("demo_shapes.json")


def demo_path(home: Home | Path) -> Path:
    root = home.root if isinstance(home, Home) else Path(home)
    return root / "models" / "Stable-diffusion" / DEMO_FILENAME


def is_demo_file(path: Path) -> bool:
    try:
        header, _, arch = inspect(path)
    except BrokenModelError:
        return False
    return arch == "demo" and bool(header.metadata.get(DEMO_METADATA_KEY))


def home_has_checkpoint(home: Home | Path) -> bool:
    """True when the home's checkpoint folder holds a model other than the demo and the built-in one."""
    from engine.models.builtin import BUILTIN_FILENAME

    folder = demo_path(home).parent
    if not folder.is_dir():
        return False
    for entry in folder.iterdir():
        if entry.name in (DEMO_FILENAME, BUILTIN_FILENAME):
            continue
        if entry.is_dir() and (entry / "model_index.json").is_file():
            return True
        if entry.is_file() and entry.suffix.lower() in MODEL_EXTENSIONS["checkpoint"]:
            return True
    return False


def demo_shapes() -> dict[str, dict[str, list[int]]] | None:
    """The demo models' tensor shapes, stored beside this module (a test keeps them in step with the
    configs); None when the file is missing, and the models are then built to read them."""
    try:
        data: dict[str, dict[str, list[int]]] = json.loads(DEMO_SHAPES.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def build_demo_state() -> dict:
    """The demo's tensors in A1111's layout (fp16, deterministic).

    The stored shapes spare building the models: only torch is needed, not diffusers' and
    transformers' model classes, whose first import takes seconds on a busy machine.
    """
    from engine.models.configs import config_dir
    from engine.models.synth import build_checkpoint

    return build_checkpoint(config_dir("demo"), seed=DEMO_SEED, shapes=demo_shapes())


def ensure_demo_model(home: Home | Path) -> Path:
    """Return the demo checkpoint's path, writing it first if it is missing or damaged.

    Call it when the home has no checkpoint (``home_has_checkpoint``). The bytes are the same
    on every machine: fixed seed, fixed key order.
    """
    from engine.models.synth import write_checkpoint

    path = demo_path(home)
    if path.is_file() and is_demo_file(path):
        return path
    log.info("Writing the demo model to %s", path)
    return write_checkpoint(path, build_demo_state(), DEMO_METADATA)
