"""The engine's first-run install under Wine 8, run by the bundle's own Python and pip.

A local index serves tiny real wheels named like PyTorch's builds (``torch-2.13.0+cu130``);
their ``torch.cuda`` answers as the test says. The machine is described in a JSON file (Wine has
no NVIDIA driver), so the decision, the download, pip unpacking into staging, the check in a
child process and the swap all run as on Windows. What cannot run here: a real CUDA torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bundle.wine import Ran, WineSession, windows_path
from tests.installer.fault_server import FaultServer
from tests.installer.wheel_index import LocalIndex, fake_package, fake_torch, fake_torchvision

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

RTX4090 = {"platform": "win32", "arch": "AMD64", "driver": "581.57", "driver_cuda": "13.0",
           "gpus": [{"name": "NVIDIA GeForce RTX 4090", "vendor": "nvidia", "capability": [8, 9]}]}
FITS_4090 = ["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"]
NO_SM89 = ["sm_100", "sm_120"]


@pytest.fixture
def bundle(wine_bundle: Path) -> Path:
    return wine_bundle


def index(server: FaultServer, folder: Path, prefix: str, archs: list[str]) -> LocalIndex:
    served = LocalIndex(server, prefix)
    for wheel in (fake_torch(folder, "cu130", True, archs), fake_torchvision(folder, "cu130"),
                  fake_package(folder, "diffusers", "0.42.1")):
        served.add(wheel)
    return served


def install(wine: WineSession, bundle: Path, served: LocalIndex, machine: Path) -> tuple[Ran, dict[str, Any]]:
    ran = wine.run([str(bundle / "python" / "python.exe"), "-X", "utf8", "-m", "installer.engine_install", "--json",
                    "--index-url", served.url, "--torch-index-url", served.url,
                    "--engine-requirement", "diffusers==0.42.1", "--machine-json", windows_path(machine)],
                   cwd=bundle, timeout=400)
    try:
        return ran, json.loads(ran.stdout)
    except ValueError:
        pytest.fail(f"no JSON (exit {ran.returncode}): {ran.stdout[-1500:]!r} {ran.stderr[-3000:]}")


def test_engine_install_chooses_cuda_stages_verifies_swaps_and_keeps_it_on_a_bad_update(
        wine: WineSession, bundle: Path, tmp_path: Path) -> None:
    machine = tmp_path / "machine.json"
    machine.write_text(json.dumps(RTX4090), encoding="utf-8")
    engine = bundle / "engine-packages"
    with FaultServer() as server:
        good = index(server, tmp_path / "good", "/good", FITS_4090)
        bad = index(server, tmp_path / "bad", "/bad", NO_SM89)
        first, answer = install(wine, bundle, good, machine)
        assert first.returncode == 0, first.stderr[-3000:]
        assert answer["choice"]["variant"] == "cu130" and answer["choice"]["target"] == windows_path(engine)
        assert answer["installed"]["torch"] == "2.13.0+cu130" and answer["installed"]["cuda"] is True
        live = json.loads((engine / "packages" / "maple-engine.json").read_text(encoding="utf-8"))
        assert live["arch_list"] == FITS_4090

        second, failed = install(wine, bundle, bad, machine)
    assert second.returncode == 1 and failed["error"]["code"] == "engine-verify", second.stderr[-3000:]
    assert "sm_89" in failed["error"]["message"]
    assert json.loads((engine / "packages" / "maple-engine.json").read_text(encoding="utf-8")) == live
    assert "sm_90" in (engine / "packages" / "torch" / "cuda.py").read_text(encoding="utf-8")
    assert not (engine / "packages.staging").exists() and not (engine / "packages.old").exists()
    print(f"\nunder Wine: first install {first.seconds:.1f} s, refused update {second.seconds:.1f} s")
