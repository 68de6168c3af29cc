"""The engine's own errors, on installer's ``MapleError`` tree (model-loading ones: ``engine.models.errors``).

Each class sets a stable ``code``, its HTTP ``status`` and a hint; an instance names the request
``field`` it concerns (``BadRequestError("steps: ...", field="steps")``). The API answers every
``MapleError`` the same way: ``to_dict()`` (``error``, ``detail``, ``hint``, ``field``) with
``status``. Anything else that escapes a job is caught at the worker's edge as ``InternalError``.
"""

from __future__ import annotations

from installer.errors import MapleError, UnsafePathError


class EngineError(MapleError):
    """The engine failed at something on its own side (a 500 unless a subclass says otherwise)."""

    code = "engine-error"
    status = 500


class BadRequestError(EngineError):
    """The request asks for something that cannot be done; ``field`` names the request field."""

    code = "bad-request"
    status = 422


class UnsafeNameError(UnsafePathError):
    """A name (in a request, or given to the model lists) that would leave the model folders."""

    code = "unsafe-name"
    default_hint = "Names must be files inside Maple's model folders."


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


class InternalError(EngineError):
    """Something failed that Maple did not expect: the worker's and the HTTP handler's last resort."""

    code = "internal"
    default_hint = "See logs/engine.log for details; the engine keeps serving."
