"""Maple's version, read in one place for the launcher, its command-line tools and the downloader.

It is the installed ``maple-launcher`` distribution's version, read on first use and remembered.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

DISTRIBUTION = "maple-launcher"
UNKNOWN = "0+unknown"  # run from a folder that was never installed: sorts below every release


@cache
def maple_version() -> str:
    """``"0.1.0"``-style version of the running Maple, or ``UNKNOWN`` when it is not installed."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN
