"""The states a download goes through, and the only moves allowed between them.

A transfer goes connecting -> downloading (<-> retrying) -> verifying -> done, back to connecting
for the next source, and may end paused, cancelled or failed at any point; the queue adds queued
before it and, from paused, failed or cancelled, queued again (resume). A transfer that finishes as
it is being stopped counts as done. Any other move is a bug and raises ``DownloadStateError``.
"""

from __future__ import annotations

from enum import Enum

from installer.errors import DownloadError


class DownloadState(str, Enum):
    """A download's state; it compares, prints and formats as its plain value (``"done"``)."""

    QUEUED = "queued"
    CONNECTING = "connecting"
    DOWNLOADING = "downloading"
    RETRYING = "retrying"
    VERIFYING = "verifying"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FAILED = "failed"
    DONE = "done"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def then(self, new: DownloadState | str) -> DownloadState:
        """``new`` if the move from this state to it is allowed (staying put always is); else raise."""
        target = DownloadState(new)
        if target is not self and target not in _NEXT[self]:
            raise DownloadStateError(f"A download cannot go from {self.value} to {target.value}")
        return target


class DownloadStateError(DownloadError):
    code = "download-state"
    default_hint = "This is a bug in Maple; please report it with the log file."


S = DownloadState
_STOPS = (S.PAUSED, S.CANCELLED, S.FAILED)
_NEXT: dict[DownloadState, frozenset[DownloadState]] = {
    S.QUEUED: frozenset({S.CONNECTING, S.DONE, *_STOPS}),  # done: the file was already there
    S.CONNECTING: frozenset({S.DOWNLOADING, S.RETRYING, S.VERIFYING, *_STOPS}),
    S.DOWNLOADING: frozenset({S.RETRYING, S.VERIFYING, S.CONNECTING, *_STOPS}),
    S.RETRYING: frozenset({S.DOWNLOADING, S.VERIFYING, S.CONNECTING, *_STOPS}),
    S.VERIFYING: frozenset({S.DONE, S.CONNECTING, *_STOPS}),
    S.PAUSED: frozenset({S.QUEUED, S.CONNECTING, S.CANCELLED, S.DONE}),
    S.CANCELLED: frozenset({S.QUEUED, S.DONE}),
    S.FAILED: frozenset({S.QUEUED}),
    S.DONE: frozenset(),
}

ACTIVE = (S.QUEUED, S.CONNECTING, S.DOWNLOADING, S.RETRYING, S.VERIFYING)
UNFINISHED = (*ACTIVE, S.PAUSED, S.FAILED)  # what the queue file remembers across restarts
FINISHED = (S.DONE, S.FAILED, S.CANCELLED)
