"""The bundle's own Windows programs under Wine 8, from a folder with spaces and Chinese characters.

What runs here is the unchanged bundle: its ``python.exe`` and launchers. The Wine prefix gets
two test-only DLLs for Windows APIs Wine 8 lacks (see ``wine_shims/``); the launcher window itself
cannot be shown under Wine 8 (Qt 6.7+ needs Windows' ICU), so it is started only as far as
``--help``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.conftest import USER_FOLDER
from tests.bundle.wine import Ran, WineSession, windows_path

pytestmark = pytest.mark.slow


@pytest.fixture
def bundle(wine_bundle: Path) -> Path:
    """These tests write into the bundle (data home, long paths, engine): their own copy."""
    return wine_bundle


PROBE = r"""
import importlib.metadata, json, sys
from installer.home import default_root, program_dir, resolve_home
from installer.settings import Settings, load_settings, save_settings
home = resolve_home().ensure()
save_settings(home.settings_file, Settings(language="zh", port=7861))
print(json.dumps({
    "isolated": sys.flags.isolated, "executable": sys.executable, "path": sys.path,
    "version": importlib.metadata.version("maple-launcher"), "program_dir": str(program_dir()),
    "home": str(home.root), "settings_port": load_settings(home.settings_file).settings.port,
    "not_portable_default": str(default_root()),
}, ensure_ascii=False))
"""


def python(bundle: Path) -> str:
    return str(bundle / "python" / "python.exe")


def json_out(ran: Ran) -> dict[str, Any]:
    """The program's JSON answer; a failure shows what it said instead."""
    try:
        data = json.loads(ran.stdout)
    except ValueError:
        pytest.fail(f"no JSON (exit {ran.returncode}); stdout: {ran.stdout[-2000:]!r}; stderr: {ran.stderr[-3000:]}")
    assert isinstance(data, dict)
    return data


def test_maple_doctor_json_runs_on_the_bundles_python(wine: WineSession, bundle: Path) -> None:
    ran = wine.run([python(bundle), "-X", "utf8", "-m", "installer.cli.doctor", "--json", "--lang", "zh"], cwd=bundle)
    report = json_out(ran)
    assert report["home"] == windows_path(bundle / "data") and USER_FOLDER in report["home"]
    assert report["machine"]["platform"] == "win32" and report["machine"]["python"] == "3.13.2"
    ids = {f["id"]: f for f in report["findings"]}
    assert ids["long-paths"]["verdict"] == "warning", "a Windows 10 without long paths, as the prefix is set up"
    assert ids["gpu"]["title"] == "显卡"
    assert ran.returncode == (1 if report["blockers"] else 0), ran.stderr


def test_long_paths_are_written_to_the_registry(wine: WineSession, bundle: Path) -> None:
    ran = wine.run([python(bundle), "-X", "utf8", "-m", "installer.cli.doctor", "--enable-long-paths", "--json"], cwd=bundle)
    assert json_out(ran) == {"long_paths": "enabled", "ok": True, "changed": True,
                                      "message": "Long paths are now enabled."}, ran.stderr
    assert ran.returncode == 0
    wine.flush_registry()
    section = wine.registry_text().split("[System\\\\CurrentControlSet\\\\Control\\\\FileSystem]")[1].split("\n[")[0]
    assert '"LongPathsEnabled"=dword:00000001' in section
    again = wine.run([python(bundle), "-X", "utf8", "-m", "installer.cli.doctor", "--enable-long-paths", "--json"], cwd=bundle)
    assert json_out(again)["long_paths"] == "already-enabled"


def test_the_bundles_python_finds_maple_its_version_and_the_portable_home(wine: WineSession, bundle: Path) -> None:
    ran = wine.run([python(bundle), "-X", "utf8", "-c", PROBE], cwd=bundle / "python")
    assert ran.returncode == 0, ran.stderr
    probe = json_out(ran)
    assert probe["isolated"] == 1, "the ._pth file keeps PYTHONPATH and the user's site-packages out"
    assert probe["program_dir"] == windows_path(bundle)
    assert probe["home"] == windows_path(bundle / "data") and (bundle / "data" / "models" / "Stable-diffusion").is_dir()
    assert probe["settings_port"] == 7861, "settings (pydantic) saved and read back in the portable home"
    assert probe["version"] == built_version(bundle)
    assert re.fullmatch(r"C:\\users\\[^\\]+\\AppData\\Local\\Maple", probe["not_portable_default"]), probe


def built_version(bundle: Path) -> str:
    return json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))["maple_version"]


def test_maple_console_exe_starts_the_launcher_with_the_arguments_and_its_exit_code(wine: WineSession, bundle: Path) -> None:
    ran = wine.run([str(bundle / "Maple-console.exe"), "--help"], cwd=bundle)
    assert ran.returncode == 0 and ran.stdout.startswith("usage: maple"), ran.stderr
    bad = wine.run([str(bundle / "Maple-console.exe"), "--lang", "klingon"], cwd=bundle)
    assert bad.returncode == 2 and "invalid choice: 'klingon'" in bad.stderr


def test_maple_exe_starts_pythonw_from_its_own_folder(wine: WineSession, bundle: Path, tmp_path: Path) -> None:
    ran = wine.run([str(bundle / "Maple.exe"), "--help"], cwd=tmp_path)
    assert ran.returncode == 0 and "usage: maple" in ran.stdout, ran.stderr


def test_a_launcher_without_its_python_says_to_extract_the_whole_zip(wine: WineSession, bundle: Path, tmp_path: Path) -> None:
    alone = tmp_path / "从压缩包里直接打开"
    alone.mkdir()
    shutil.copy(bundle / "Maple-console.exe", alone)
    ran = wine.run([str(alone / "Maple-console.exe")], cwd=alone)
    assert ran.returncode == 2
    assert "Extract the whole zip first" in ran.stderr and windows_path(alone / "python" / "python.exe") in ran.stderr
