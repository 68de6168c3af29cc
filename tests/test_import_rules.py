"""The import rules between packages, each checked in a fresh interpreter.

installer and launcher never import torch; installer and engine never import PySide6; and
``installer`` is Maple's own package, not the PyPA package of the same name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

IMPORT_ALL = """
import importlib, json, pkgutil, sys
package = importlib.import_module({package!r})
failed = []
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed.append(f"{{info.name}}: {{type(exc).__name__}}: {{exc}}")
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"torch", "PySide6", "diffusers", "transformers"}})
print(json.dumps({{"heavy": heavy, "failed": failed}}))
"""


def import_everything(package: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL.format(package=package)],
        capture_output=True, text=True, cwd=ROOT, timeout=240,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("package", "forbidden"), [
    ("installer", {"torch", "PySide6", "diffusers", "transformers"}),
    ("launcher", {"torch", "diffusers", "transformers"}),
    ("engine", {"PySide6"}),
])
def test_package_imports_stay_on_their_side(package, forbidden):
    found = import_everything(package)
    assert found["failed"] == []
    assert set(found["heavy"]) & forbidden == set()


def test_running_the_machine_check_does_not_import_torch(tmp_path):
    code = ("import sys; from installer.machine.report import check; check(sys.argv[1]); "
            "print(sorted({'torch', 'PySide6'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    assert out.strip() == "[]"


def test_installer_is_maples_own_package():
    code = ("import installer, json, importlib.metadata as m\n"
            "try:\n    pypa = m.distribution('installer').version\nexcept m.PackageNotFoundError:\n    pypa = None\n"
            "print(json.dumps([installer.__file__, pypa]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True).stdout
    location, pypa = json.loads(out)
    assert Path(location).resolve() == ROOT / "installer" / "__init__.py"
    assert pypa is None, "the PyPA 'installer' distribution is installed and may shadow Maple's package"
