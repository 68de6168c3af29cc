"""The embedded demo model: a tiny SD1-shaped checkpoint with fixed random weights.

Written into the home's checkpoint folder when there is nothing else to load, so every path
(API, web page, saving, infotext) works with no GPU and no download. It is a real single-file
checkpoint in A1111's key layout, marked with the safetensors metadata ``maple.demo``; it draws
noise, and the model lists say so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from installer.errors import BrokenModelError
from installer.home import MODEL_EXTENSIONS, Home
from installer.modelfile import DEMO_METADATA_KEY, inspect

log = logging.getLogger(__name__)

DEMO_FILENAME = "maple-demo-noise.safetensors"
DEMO_SEED = 20240601
# One key only: safetensors writes metadata in hash-map order, so more keys would vary the bytes.
DEMO_METADATA = {DEMO_METADATA_KEY: "1"}
DEMO_LABEL = "demo, draws noise"


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
    """True when the home's checkpoint folder holds a model other than the demo."""
    folder = demo_path(home).parent
    if not folder.is_dir():
        return False
    for entry in folder.iterdir():
        if entry.name == DEMO_FILENAME:
            continue
        if entry.is_dir() and (entry / "model_index.json").is_file():
            return True
        if entry.is_file() and entry.suffix.lower() in MODEL_EXTENSIONS["checkpoint"]:
            return True
    return False


def build_demo_state() -> dict:
    """The demo's tensors in A1111's layout (fp16, deterministic)."""
    from engine.models.configs import config_dir
    from engine.models.synth import build_checkpoint

    return build_checkpoint(config_dir("demo"), seed=DEMO_SEED)


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
