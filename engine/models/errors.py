"""Model loading errors: each with a stable ``code`` and a ``hint`` users can act on.

They extend installer's ``ModelError`` (a ``MapleError``), so the engine's HTTP layer can turn any
of them into a 4xx/5xx with ``code``, ``message`` and ``hint``.
"""

from __future__ import annotations

from installer.errors import ModelError


class ModelLoadError(ModelError):
    code = "model-load"
    default_hint = "The model that was loaded before is still in use."


class ModelNotFoundError(ModelLoadError):
    code = "model-not-found"
    default_hint = "Refresh the model list, or put the file into models/Stable-diffusion."


class ModelBrokenError(ModelLoadError):
    code = "model-broken"
    default_hint = "The file is damaged or incomplete: delete it and download it again."


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


class UnsafeModelPathError(ModelLoadError):
    code = "unsafe-path"
    default_hint = "Only files inside Maple's model folders can be used."


class LoraError(ModelLoadError):
    code = "lora"
    default_hint = "Check the LoRA file: it may be damaged or made for another model family."


class VaeError(ModelLoadError):
    code = "vae"
    default_hint = "Choose another VAE, or 'Automatic' to use the checkpoint's own."
