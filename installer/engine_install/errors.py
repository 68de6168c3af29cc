"""The engine installer's errors: each says what happened, that nothing was lost, and what to do."""

from __future__ import annotations

from installer.errors import MapleError


class EngineInstallError(MapleError):
    code = "engine-install"
    default_hint = "The engine that was there before is unchanged. Try the install again."


class IndexUnreachableError(EngineInstallError):
    code = "engine-index-unreachable"
    default_hint = ("Check the network and the proxy in Settings. In mainland China, set a package index mirror and a "
                    "PyTorch mirror in Settings. Files already downloaded are kept; installing again resumes.")


class InstallDiskFullError(EngineInstallError):
    code = "engine-disk-full"
    default_hint = "Free some disk space, then install again: files already downloaded are kept and the old engine still works."


class InstallPathError(EngineInstallError):
    code = "engine-path"
    default_hint = "Move the Maple folder somewhere short that you can write to, such as C:\\Maple, and start it from there."


class InstallCancelled(EngineInstallError):
    code = "engine-install-cancelled"
    default_hint = "Files already downloaded are kept: installing again continues where it stopped."


class ResolveError(EngineInstallError):
    code = "engine-resolve"
    default_hint = "The package index does not have every package the engine needs; check the mirror set in Settings."


class VerifyFailedError(EngineInstallError):
    code = "engine-verify"
    default_hint = "The new packages were not put in place; the engine that was there before is unchanged."


class InstallBusyError(EngineInstallError):
    code = "engine-install-busy"
    default_hint = "Another Maple window is installing the engine; wait for it to finish."


class UnsupportedChoiceError(EngineInstallError):
    code = "engine-unsupported"
    default_hint = "Fix what the message says, or choose the CPU build explicitly."
