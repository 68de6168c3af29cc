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


# --- the layers inside each package, read from the source (no imports run) ---

PACKAGES = ("engine", "installer", "launcher")

# (importer prefix, imported prefix): modules under the first never import modules under the second.
LAYER_RULES = [
    ("engine.generation", "engine.server"),
    ("engine.prompts", "engine.generation"),
    ("engine.prompts", "engine.server"),
    ("engine.models", "engine.generation"),
    ("engine.models", "engine.server"),
    ("engine.jobs", "engine.generation"),
    ("engine.jobs", "engine.server"),
    ("installer", "engine"),
    ("installer", "launcher"),
    ("installer.machine", "installer.store"),
    ("installer.machine", "installer.downloads"),
    ("installer.machine", "installer.cli"),
    ("installer.store", "installer.cli"),
    ("installer.downloads", "installer.cli"),
    ("installer.downloads", "installer.machine"),
    ("installer.store", "installer.downloads"),
    ("installer.store", "installer.machine"),
    ("installer.contract", "installer"),
    ("installer.version", "installer"),
    ("launcher", "launcher.__main__"),
    ("launcher.pages", "launcher.startup"),
    ("launcher.engine", "launcher.context"),
    ("launcher.pages", "launcher.app"),
    ("launcher.engine", "launcher.pages"),
    ("launcher.engine", "launcher.app"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Every Maple module and the Maple modules it imports (function-level and type-only imports too)."""
    import ast

    paths = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {t for t in targets if t in paths and t != name}
    return graph


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    return circles


def under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_no_import_circles():
    assert import_circles(import_graph()) == []


def test_the_import_circle_finder_finds_one():
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(("importer", "imported"), LAYER_RULES)
def test_no_import_runs_back_up_a_layer(importer, imported):
    graph = import_graph()
    bad = sorted(f"{m} -> {t}" for m, targets in graph.items() if under(m, importer)
                 for t in targets if under(t, imported))
    assert bad == []
