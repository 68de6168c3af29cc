"""Maple's installer errors: one base class, each error with a stable code and a hint.

The launcher and the command-line tools show ``message`` and ``hint``; scripts match on ``code``.
"""

from __future__ import annotations


class MapleError(Exception):
    """Base error for everything in ``installer``."""

    code = "maple-error"
    default_hint = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class SettingsError(MapleError):
    code = "settings"
    default_hint = "Maple kept a backup of the unreadable file and started from defaults."


class HomeError(MapleError):
    code = "home"
    default_hint = "Choose another data home with --home or MAPLE_HOME."


class ModelError(MapleError):
    code = "model"


class BrokenModelError(ModelError):
    code = "model-broken"
    default_hint = "Delete the file and download it again."


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
    code = "unsafe-path"
    default_hint = "Only files inside Maple's model folders can be used or removed."


class LongPathsError(MapleError):
    code = "long-paths"
