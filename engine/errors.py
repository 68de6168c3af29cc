"""The engine's errors: one base class, each with a stable ``code``, an HTTP status and a hint.

Model loading, generation and the HTTP layer raise these; the API turns them into a JSON error
``{"error": code, "detail": message, "hint": hint}`` with ``status``. Anything else that escapes a
job is caught at the worker's edge and reported as ``internal``.
"""

from __future__ import annotations

from installer.errors import MapleError


class EngineError(MapleError):
    """Base error for everything in ``engine`` (Maple's error with an HTTP status)."""

    code = "engine-error"
    status = 500

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.message, "hint": self.hint}


class BadRequestError(EngineError):
    """The request asks for something that cannot be done; the message names the field."""

    code = "bad-request"
    status = 422


class NotFoundError(EngineError):
    """A model, VAE, LoRA, sampler or file the request names does not exist."""

    code = "not-found"
    status = 404


class UnsafeNameError(BadRequestError):
    code = "unsafe-name"
    default_hint = "Names must be files inside Maple's model folders."


class ModelLoadError(EngineError):
    """A checkpoint, VAE or LoRA could not be loaded; the current model keeps working."""

    code = "model-load"
    status = 400
    default_hint = "Check the file (maple-models verify) or choose another model."


class PickleRefusedError(ModelLoadError):
    code = "pickle-refused"
    default_hint = "This .ckpt can run code when loaded. Convert it to .safetensors, or start with --allow-pickle if you trust it."


class OutOfMemoryError(EngineError):
    code = "out-of-memory"
    status = 507
    default_hint = (
        "The GPU ran out of memory. Try a smaller size or batch, or a lower VRAM mode "
        "(--vram-mode medium or low); the engine freed the memory and keeps serving."
    )


class ShuttingDownError(EngineError):
    code = "shutting-down"
    status = 503
    default_hint = "The engine is stopping; start it again."


class StartupError(EngineError):
    code = "startup"
    status = 500


MAPLE_STATUS = {"model-not-found": 404, "unsafe-path": 422, "cancelled": 409}


def from_maple(exc: Exception) -> EngineError:
    """An installer/model-loading ``MapleError`` as an engine error with the same code and hint."""
    error = EngineError(getattr(exc, "message", str(exc)), getattr(exc, "hint", ""))
    error.code = str(getattr(exc, "code", "maple-error"))
    error.status = MAPLE_STATUS.get(error.code, 400)
    return error
