"""Maple's error tree: ``MapleError`` at the root, each error with a stable code and a hint.

The launcher and the command-line tools show ``message`` and ``hint``; scripts match on ``code``.
Every error also carries, as data, the HTTP ``status`` an API answers with when it gets there and
the request ``field`` it concerns (None: none). The engine subclasses these (``engine.errors``,
``engine.models.errors``) and its API turns any of them into ``to_dict()`` with ``status``; the
installer itself has no HTTP, but a model file or a name from the store reaching the engine's API
says what it is from its own class, not from a table kept elsewhere.
"""

from __future__ import annotations

from typing import Self


class MapleError(Exception):
    """Base error for everything Maple raises on purpose.

    ``status`` defaults to 400: a Maple error that reaches the API is about what the request asked
    for (a model, a file, a name); classes for the engine's own failures say 5xx. ``status`` and
    ``field`` are set per class and can be given per instance.
    """

    code = "maple-error"
    default_hint = ""
    status = 400
    field: str | None = None

    def __init__(self, message: str, hint: str = "", *, field: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status

    @classmethod
    def about(cls, field: str, problem: str, hint: str = "") -> Self:
        """An error about request ``field``: the message reads ``field: problem``, ``field`` is set."""
        return cls(f"{field}: {problem}", hint, field=field)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, str | None]:
        """The JSON error body: ``{"error": code, "detail": message, "hint": hint, "field": field}``."""
        return {"error": self.code, "detail": self.message, "hint": self.hint, "field": self.field}


class SettingsError(MapleError):
    code = "settings"
    default_hint = "Maple kept a backup of the unreadable file and started from defaults."


class HomeError(MapleError):
    code = "home"
    default_hint = "Choose another data home with --home or MAPLE_HOME."


class ModelError(MapleError):
    code = "model"


class BrokenModelError(ModelError):
    """A model file that is damaged, truncated or not what its name says (store, loading, LoRAs)."""

    code = "model-broken"
    default_hint = "The file is damaged or incomplete: delete it and download it again."


class ModelNotFoundError(ModelError):
    """No model file by that name (the store's commands, the engine's lookups and loading)."""

    code = "model-not-found"
    status = 404
    default_hint = "Run `maple-models list` to see the names Maple knows."


class DownloadError(MapleError):
    code = "download"
    default_hint = "Check the network or proxy, then resume the download: it continues where it stopped."


class HashMismatchError(DownloadError):
    code = "hash-mismatch"
    default_hint = "The bytes received are not the published file; it was not kept. Try another source."


class DiskFullError(DownloadError):
    code = "disk-full"
    default_hint = "Free some disk space, then resume: the partial download was kept."


class UnsafePathError(MapleError):
    """A path or name that would leave Maple's model folders."""

    code = "unsafe-path"
    status = 422
    default_hint = "Only files inside Maple's model folders can be used or removed."


class LongPathsError(MapleError):
    code = "long-paths"
