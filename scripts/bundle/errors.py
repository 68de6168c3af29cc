"""The one error the bundle build raises: a step that cannot go on, with what to do about it."""

from __future__ import annotations

from installer.errors import MapleError


class BuildError(MapleError):
    code = "bundle-build"
    default_hint = "Nothing was written to dist/; fix the cause and build again."
