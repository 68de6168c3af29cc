"""Windows long paths on a fake registry and UAC: the real Windows code paths, run on any OS."""

from __future__ import annotations

import sys

import pytest

from installer.cli.doctor import main
from installer.machine import longpaths
from installer.machine.longpaths import (
    KEY,
    REG_ADD,
    VALUE,
    LongPaths,
    Outcome,
    enable_long_paths,
    long_paths_state,
)
from installer.machine.report import check
from installer.machine.verdicts import Verdict
from tests.installer.fake_machine import probes


class FakeRegistry:
    """HKLM as a dict; writing needs administrator rights, as on Windows."""

    def __init__(self, value: int | None = 0, readable: bool = True) -> None:
        self.values: dict[tuple[str, str], int] = {} if value is None else {(KEY, VALUE): value}
        self.readable = readable
        self.admin = False
        self.reads = 0

    def read_dword(self, key: str, name: str) -> int | None:
        self.reads += 1
        if not self.readable:
            raise PermissionError(5, "Access is denied")
        return self.values.get((key, name))

    def write_dword(self, key: str, name: str, value: int) -> None:
        if not self.admin:
            raise PermissionError(5, "Access is denied")
        self.values[(key, name)] = value


class FakeUac:
    """The UAC prompt. ``answer``: "yes", "no", "yes-but-denied" (policy forbids), "yes-but-noop"."""

    def __init__(self, registry: FakeRegistry, answer: str, admin: bool = False) -> None:
        self.registry, self.answer, self.admin = registry, answer, admin
        self.prompts: list[tuple[str, ...]] = []

    def is_admin(self) -> bool:
        return self.admin

    def run_elevated(self, argv: tuple[str, ...]) -> int | None:
        self.prompts.append(argv)
        if self.answer == "no":
            return None
        if self.answer == "yes-but-denied":
            return 5
        if self.answer == "yes":
            self._reg_add(argv)
        return 0

    def _reg_add(self, argv: tuple[str, ...]) -> None:
        """Do what ``reg add HKLM\\KEY /v NAME /t REG_DWORD /d N /f`` does, as an administrator."""
        assert argv[:2] == ("reg", "add") and argv[2].startswith("HKLM\\") and "/f" in argv
        assert argv[argv.index("/t") + 1] == "REG_DWORD"
        self.registry.admin = True
        self.registry.write_dword(argv[2][5:], argv[argv.index("/v") + 1], int(argv[argv.index("/d") + 1]))
        self.registry.admin = False


def test_not_windows_is_not_needed_and_touches_nothing():
    registry = FakeRegistry(readable=False)
    uac = FakeUac(registry, "yes")
    assert long_paths_state("linux", registry) is LongPaths.NOT_NEEDED
    result = enable_long_paths("darwin", registry, uac)
    assert result.outcome is Outcome.NOT_NEEDED and result.ok and not result.changed
    assert registry.reads == 0 and uac.prompts == []


def test_already_enabled_asks_nothing():
    registry = FakeRegistry(1)
    uac = FakeUac(registry, "yes")
    assert long_paths_state("win32", registry) is LongPaths.ENABLED
    assert enable_long_paths("win32", registry, uac).outcome is Outcome.ALREADY
    assert uac.prompts == []


@pytest.mark.parametrize("start", [0, None])
def test_disabled_and_accepted_writes_the_value(start):
    registry = FakeRegistry(start)
    uac = FakeUac(registry, "yes")
    assert long_paths_state("win32", registry) is LongPaths.DISABLED
    result = enable_long_paths("win32", registry, uac)
    assert result.outcome is Outcome.ENABLED and result.changed
    assert registry.values[(KEY, VALUE)] == 1
    assert uac.prompts == [REG_ADD]
    assert long_paths_state("win32", registry) is LongPaths.ENABLED


def test_declined_prompt_changes_nothing_and_says_so(capsys):
    registry = FakeRegistry(0)
    uac = FakeUac(registry, "no")
    result = enable_long_paths("win32", registry, uac)
    assert result.outcome is Outcome.DECLINED and not result.ok and not result.changed
    assert registry.values[(KEY, VALUE)] == 0
    code = main(["--enable-long-paths", "--lang", "en"], enable=lambda: enable_long_paths("win32", registry, uac))
    assert code == 1
    assert "declined: nothing was changed" in capsys.readouterr().out


def test_access_denied_after_the_prompt_changes_nothing(capsys):
    registry = FakeRegistry(0)
    uac = FakeUac(registry, "yes-but-denied")
    result = enable_long_paths("win32", registry, uac)
    assert result.outcome is Outcome.DENIED
    assert registry.values[(KEY, VALUE)] == 0
    code = main(["--enable-long-paths", "--lang", "zh"], enable=lambda: enable_long_paths("win32", registry, uac))
    assert code == 1 and "权限不足：没有做任何更改" in capsys.readouterr().out


def test_admin_process_writes_directly_without_a_prompt():
    registry = FakeRegistry(0)
    registry.admin = True
    uac = FakeUac(registry, "no", admin=True)
    assert enable_long_paths("win32", registry, uac).outcome is Outcome.ENABLED
    assert uac.prompts == [] and registry.values[(KEY, VALUE)] == 1


def test_admin_without_write_access_is_denied():
    registry = FakeRegistry(0)  # registry.admin False: the write raises PermissionError
    result = enable_long_paths("win32", registry, FakeUac(registry, "no", admin=True))
    assert result.outcome is Outcome.DENIED and "Access is denied" in result.detail


def test_helper_that_succeeds_without_writing_is_not_reported_as_enabled():
    registry = FakeRegistry(0)
    result = enable_long_paths("win32", registry, FakeUac(registry, "yes-but-noop"))
    assert result.outcome is Outcome.FAILED and registry.values[(KEY, VALUE)] == 0


def test_unreadable_registry_is_unknown_and_a_warning(home):
    registry = FakeRegistry(readable=False)
    state = long_paths_state("win32", registry)
    assert state is LongPaths.UNKNOWN
    finding = check(home, probes=probes(long_paths=state, platform="win32")).finding("long-paths")
    assert finding.verdict is Verdict.WARNING


def test_enable_from_the_cli_json(capsys):
    registry = FakeRegistry(0)
    code = main(["--enable-long-paths", "--json"], enable=lambda: enable_long_paths("win32", registry, FakeUac(registry, "yes")))
    out = capsys.readouterr().out
    assert code == 0
    assert '"long_paths": "enabled"' in out and '"changed": true' in out


@pytest.mark.skipif(sys.platform == "win32", reason="the real registry is read on Windows")
def test_real_call_off_windows_is_not_needed(capsys):
    assert longpaths.enable_long_paths().outcome is Outcome.NOT_NEEDED
    assert main(["--enable-long-paths", "--lang", "en"]) == 0
    assert "not needed" in capsys.readouterr().out


def test_windows_layers_import_everywhere():
    from installer.machine.longpaths_win import ShellExecuteInfo, WinElevation, WinRegistry

    assert ShellExecuteInfo.hProcess.offset > 0
    assert callable(WinRegistry().read_dword) and callable(WinElevation().run_elevated)
