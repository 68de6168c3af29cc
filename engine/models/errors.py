"""Model loading errors: each with a stable ``code`` and a ``hint`` users can act on.

They extend installer's ``ModelError`` (a ``MapleError``), so each carries its HTTP ``status``
(400 unless it says otherwise) and the engine's API answers with ``code``, ``message`` and ``hint``.
The errors model files share with the store are installer's own: ``BrokenModelError`` (damaged or
truncated), ``ModelNotFoundError`` (404) and ``UnsafePathError`` (422).
"""

from __future__ import annotations

from installer.errors import ModelError
from installer.home import MODEL_DIRS


def not_found_hint(kind: str) -> str:
    """Where a missing file of this kind belongs (models/Lora for a LoRA, models/VAE for a VAE)."""
    folder = MODEL_DIRS.get(kind, MODEL_DIRS["checkpoint"])
    return f"Refresh the model list, or put the file into {folder}."


class ModelLoadError(ModelError):
    code = "model-load"
    default_hint = "The model that was loaded before is still in use."


class UnsupportedModelError(ModelLoadError):
    code = "model-unsupported"
    default_hint = "Maple loads SD1.x, SD1.x inpainting, SD2.x and SDXL checkpoints."


class PickleRefusedError(ModelLoadError):
    code = "pickle-refused"
    default_hint = (
        "This .ckpt runs code when loaded. Use a .safetensors version of the model, or start the "
        "engine with --allow-pickle if you trust the file."
    )


class ConfigMissingError(ModelLoadError):
    code = "config-missing"
    default_hint = "Maple's install is incomplete: run the set-up again to restore assets/configs."


class LoraError(ModelLoadError):
    code = "lora"
    default_hint = "Check the LoRA file: it may be damaged or made for another model family."


class VaeError(ModelLoadError):
    code = "vae"
    default_hint = "Choose another VAE, or 'Automatic' to use the checkpoint's own."


class UpscalerError(ModelLoadError):
    code = "upscaler"
    default_hint = ("Check the upscaler file: Maple runs the ESRGAN, Real-ESRGAN, Compact, SwinIR, DAT and HAT "
                    "families (and the others spandrel knows) from .safetensors or weights-only .pth files.")
