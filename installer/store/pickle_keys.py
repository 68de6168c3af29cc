"""What a PyTorch ``.ckpt``/``.pt`` file holds, told from its tensor names without unpickling it.

A zip-format torch file keeps its pickle in ``<archive>/data.pkl``. ``pickletools.genops`` walks
the pickle's opcodes without running any of them, so the strings in it (the state dict's keys)
can be read from a file that nobody should load. A legacy (non-zip) pickle is not looked into.
"""

from __future__ import annotations

import logging
import pickletools
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

MAX_PICKLE = 16 * 1024 * 1024  # a whole SD checkpoint's data.pkl is well under this
STRING_OPS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"})


def pickle_strings(path: Path, limit: int = 200_000) -> list[str]:
    """The strings in a zip-format torch file's pickle (its keys), at most ``limit``; [] when unreadable."""
    try:
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
            if name is None or archive.getinfo(name).file_size > MAX_PICKLE:
                return []
            data = archive.read(name)
        found: list[str] = []
        for op, arg, _pos in pickletools.genops(data):
            if op.name in STRING_OPS and isinstance(arg, str):
                found.append(arg)
                if len(found) >= limit:
                    break
        return found
    except (OSError, zipfile.BadZipFile, ValueError, KeyError, EOFError) as exc:
        log.debug("could not read the keys of %s: %s", path, exc)
        return []


def pickle_kind(path: Path) -> str | None:
    """``checkpoint``, ``vae`` or ``lora`` from the tensor names; None when the names do not tell."""
    keys = pickle_strings(path)
    if any(k.startswith("model.diffusion_model.") for k in keys):
        return "checkpoint"
    if any("lora_down" in k or "lora_up" in k for k in keys):
        return "lora"
    if any(k.startswith(("encoder.conv_in", "decoder.conv_out", "first_stage_model.encoder")) for k in keys):
        return "vae"
    return None
