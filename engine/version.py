"""The engine's version (infotexts, ``/maple/v1/info``, the API docs): Maple's one version.

The engine and the launcher come from one distribution, so both read it through
``installer.version``; this name keeps the engine's call sites readable.
"""

from __future__ import annotations

from installer.version import UNKNOWN, maple_version

__all__ = ["UNKNOWN", "engine_version"]

engine_version = maple_version
