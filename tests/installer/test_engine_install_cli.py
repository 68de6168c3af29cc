"""``python -m installer.engine_install``: the command the set-up scripts and the bundle's tests call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from installer.engine_install.cli import main
from tests.installer.fault_server import FaultServer
from tests.installer.test_engine_install import serve

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).parents[2]


def machine_file(tmp_path: Path, **machine: object) -> str:
    path = tmp_path / "machine.json"
    path.write_text(json.dumps({"platform": "win32", "arch": "AMD64"} | machine), encoding="utf-8")
    return str(path)


RTX4090 = {"gpus": [{"name": "NVIDIA GeForce RTX 4090", "vendor": "nvidia", "capability": [8, 9]}],
           "driver": "581.57", "driver_cuda": "13.0"}
GTX1080 = {"gpus": [{"name": "NVIDIA GeForce GTX 1080", "vendor": "nvidia", "capability": [6, 1]}],
           "driver": "581.57", "driver_cuda": "13.0"}


def test_print_index_names_the_cuda_index_on_nvidia_and_nothing_elsewhere(tmp_path, capsys) -> None:
    assert main(["--print-index", "--machine-json", machine_file(tmp_path, **RTX4090)]) == 0
    assert capsys.readouterr().out.strip() == "https://download.pytorch.org/whl/cu130"
    main(["--print-index", "--machine-json", machine_file(tmp_path, **GTX1080)])
    assert capsys.readouterr().out.strip().endswith("/cu126")
    main(["--print-index", "--machine-json", machine_file(tmp_path, **RTX4090),
          "--torch-index-url", "https://mirror.example/pytorch-wheels/{variant}/"])
    assert capsys.readouterr().out.strip() == "https://mirror.example/pytorch-wheels/cu130/"
    main(["--print-index", "--machine-json", machine_file(tmp_path, platform="linux", arch="x86_64")])
    assert capsys.readouterr().out == "\n"  # a CPU machine keeps today's default index


def test_this_machine_prints_the_default_index() -> None:
    """On a CPU-only machine (this one, CI) the set-up keeps installing torch from the default index."""
    from installer.engine_install import facts

    has_nvidia = facts.probe().driver_cuda is not None
    out = subprocess.run([sys.executable, "-m", "installer.engine_install", "--print-index"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("https://") if has_nvidia else out.stdout == "\n"


def test_dry_run_and_install_from_a_subprocess(tmp_path) -> None:
    with FaultServer() as server:
        index = serve(server, tmp_path / "wheels")
        base = [sys.executable, "-m", "installer.engine_install", "--json", "--index-url", index.url,
                "--torch-index-url", index.url, "--engine-requirement", "diffusers==0.42.1",
                "--machine-json", machine_file(tmp_path, **RTX4090), "--target", str(tmp_path / "Maple 引擎")]
        dry = subprocess.run([*base, "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        plan = json.loads(dry.stdout)
        assert dry.returncode == 0 and plan["choice"]["variant"] == "cu130"
        assert plan["plan"]["bytes"] > 0 and {w["name"] for w in plan["plan"]["wheels"]} == {"torch", "torchvision", "diffusers"}
        done = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=120)
    result = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr
    assert result["installed"]["torch"] == "2.13.0+cu130"
    assert (tmp_path / "Maple 引擎" / "packages" / "maple-engine.json").is_file()


def test_a_gpu_maple_cannot_use_needs_yes(tmp_path, capsys) -> None:
    amd = machine_file(tmp_path, gpus=[{"name": "AMD Radeon RX 7900 XTX", "vendor": "amd"}])
    assert main(["--json", "--machine-json", amd, "--target", str(tmp_path / "e")]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["choice"]["reason"] == "cpu.amd" and "not supported" in out["choice"]["text"]
    assert not (tmp_path / "e" / "packages").exists()


def folder_index(tmp_path: Path) -> str:
    """A PEP 503 index as plain files (what a bundle test under Wine can point pip at)."""
    from tests.installer.wheel_index import fake_package, fake_torch, fake_torchvision

    files = tmp_path / "index" / "files"
    wheels = [fake_torch(files, "cpu", cuda=False), fake_torchvision(files, "cpu"), fake_package(files, "diffusers", "0.42.1")]
    for wheel in wheels:
        page = tmp_path / "index" / "simple" / wheel.name.split("-")[0] / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f'<a href="../../files/{wheel.name}">{wheel.name}</a>\n', encoding="utf-8")
    return (tmp_path / "index" / "simple").as_uri()


def test_a_folder_index_installs_without_pydantic(tmp_path) -> None:
    """Under Wine 8 pydantic_core cannot load: the installer itself must not need it."""
    index = folder_index(tmp_path)
    argv = ["--json", "--index-url", index, "--torch-index-url", index, "--engine-requirement", "diffusers==0.42.1",
            "--machine-json", machine_file(tmp_path, platform="linux", arch="x86_64"), "--target", str(tmp_path / "e")]
    code = ("import sys; sys.modules['pydantic'] = None; sys.modules['pydantic_core'] = None\n"
            "from installer.engine_install.cli import main\n"
            f"sys.exit(main({argv!r}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["installed"]["torch"] == "2.13.0+cpu"
