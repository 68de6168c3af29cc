"""Download errors beyond installer.errors' base ones; each has a stable code and a hint."""

from __future__ import annotations

from installer.errors import DiskFullError, DownloadError, HashMismatchError, UnsafePathError

__all__ = [
    "BadContentError",
    "DiskFullError",
    "DownloadCancelled",
    "DownloadError",
    "DownloadInUseError",
    "HashMismatchError",
    "RangeMismatchError",
    "SourceFailedError",
    "SourceUnreachableError",
    "UnsafePathError",
    "UnsupportedUrlError",
]


class DownloadCancelled(DownloadError):
    code = "download-cancelled"
    default_hint = "The partial download was kept; start it again to continue where it stopped."


class BadContentError(DownloadError):
    code = "download-bad-content"
    default_hint = "The server sent a web page or a pointer instead of the model. Try another source, or log in / add a token."


class RangeMismatchError(DownloadError):
    code = "download-bad-range"
    default_hint = "The server answered a resume request with the wrong part of the file. Try another source."


class SourceFailedError(DownloadError):
    code = "download-source"
    default_hint = "Check the network, the proxy and tokens in the settings, or choose another download source."


class DownloadInUseError(DownloadError):
    code = "download-in-use"
    default_hint = "Another Maple window or command is downloading this file; wait for it to finish."


class UnsupportedUrlError(DownloadError):
    code = "download-url"
    default_hint = "Use a Hugging Face file link, a Civitai model or version link, or a direct link to the file."


class SourceUnreachableError(SourceFailedError):
    code = "download-unreachable"
    tried: tuple[str, ...] = ()  # the sources tried, when every one was out of reach
    default_hint = ("Maple could not reach the download server. Check the network connection and the proxy in "
                    "the settings; in mainland China, choose the China mirror (hf-mirror) as the download source in the settings.")
