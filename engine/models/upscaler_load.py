"""Loading upscaler model files with spandrel, safely, and keeping the last one loaded.

``.safetensors`` files are read with safetensors; ``.pth``/``.pt`` files only through torch's
weights-only loader, so a file holding pickled code is refused (``PickleRefusedError``) before
anything in it runs. spandrel then recognises the architecture from the tensor names and shapes.
One upscaler stays loaded (per file, size and modification time) so the next request reuses it.
"""

from __future__ import annotations

import logging
import pickle
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.models.errors import PickleRefusedError, UpscalerError
from installer.errors import BrokenModelError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)
_LOCK = threading.Lock()


@dataclass
class LoadedUpscaler:
    """A spandrel image model on its device, with what tiling needs to know about it."""

    model: Any  # spandrel.ImageModelDescriptor
    scale: int
    dtype: torch.dtype
    device: torch.device
    features: int  # the widest convolution's channel count (sizes the memory a tile needs)
    arch: str  # spandrel's architecture id ("ESRGAN", "Compact", "SwinIR", ...)
    tiling: str  # spandrel's ModelTiling name: "SUPPORTED", "DISCOURAGED" or "INTERNAL"

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        """(1, 3, h, w) in [0, 1] on the model's device and dtype -> (1, 3, h*scale, w*scale)."""
        import torch

        with torch.inference_mode():
            result: torch.Tensor = self.model(pixels)
        return result


_CACHE: dict[tuple[str, int, int, str], LoadedUpscaler] = {}


def load_upscaler(path: Path, device: torch.device | str = "cpu") -> LoadedUpscaler:
    """The model in ``path`` on ``device`` (fp16 on CUDA where the architecture allows), cached."""
    import torch

    dev = torch.device(device)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, str(dev))
    with _LOCK:
        found = _CACHE.get(key)
        if found is None:
            _CACHE.clear()  # one upscaler at a time: they are small, and checkpoints need the memory
            found = _CACHE[key] = _load(path, dev)
    return found


def release_upscalers() -> None:
    with _LOCK:
        _CACHE.clear()


def _load(path: Path, device: torch.device) -> LoadedUpscaler:
    import spandrel
    import torch

    state = read_state_dict(path)
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(spandrel.canonicalize_state_dict(state))
    except spandrel.UnsupportedModelError as exc:
        raise UpscalerError(f"{path.name} is not an upscaler model Maple knows (no architecture matches its tensors)") from exc
    except (KeyError, RuntimeError, ValueError, IndexError) as exc:
        raise UpscalerError(f"{path.name} does not load as an upscaler: {exc.__class__.__name__}: {str(exc)[:200]}") from exc
    if not isinstance(descriptor, spandrel.ImageModelDescriptor) or descriptor.input_channels != 3:
        raise UpscalerError(f"{path.name} is a {descriptor.architecture.name} model, not an RGB image upscaler")
    dtype = torch.float16 if device.type == "cuda" and descriptor.supports_half else torch.float32
    descriptor.to(device).eval()
    if dtype != torch.float32:
        descriptor.to(dtype)
    log.info("Loaded upscaler %s (%s, %dx) on %s", path.name, descriptor.architecture.id, descriptor.scale, device)
    return LoadedUpscaler(descriptor, int(descriptor.scale), dtype, device, _features(descriptor.model),
                          str(descriptor.architecture.id), descriptor.tiling.name)


def read_state_dict(path: Path) -> dict[str, Any]:
    """The tensors of an upscaler file: safetensors, or a .pth/.pt through the weights-only loader."""
    import torch

    if not path.is_file():
        raise UpscalerError(f"Upscaler file not found: {path}")
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        try:
            return dict(load_file(str(path), device="cpu"))
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise BrokenModelError(f"{path.name} cannot be read as safetensors: {str(exc)[:200]}") from exc
    try:
        loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise PickleRefusedError(f"{path.name} holds more than tensors (pickled Python objects), so Maple did not load it",
                                 "Use a .safetensors version of the upscaler.") from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise BrokenModelError(f"{path.name} cannot be read ({exc.__class__.__name__}: {str(exc)[:200]})") from exc
    if not isinstance(loaded, dict):
        raise UpscalerError(f"{path.name} does not hold a state dict")
    return loaded


def _features(model: Any) -> int:
    import torch

    widths = [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    return max(widths, default=64)
