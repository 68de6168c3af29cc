"""The machine check knows a wrong PyTorch for this card, and every display adapter by its maker."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.engine_install.choice import choose
from installer.engine_install.facts import from_facts
from installer.machine.adapters import Adapter, linux_adapters, windows_adapters
from installer.machine.gpu import probe_nvml
from installer.machine.probes import TorchInfo
from installer.machine.report import check
from installer.machine.verdicts import Verdict
from tests.installer.fake_machine import GIB, FakeNvml, probes

DRIVER_13 = {"driver": "580.95.05", "cuda": 13000}
DRIVER_128 = {"driver": "572.16", "cuda": 12080}


@pytest.mark.parametrize(("card", "driver", "torch", "key", "fix", "says"), [
    ("NVIDIA GeForce RTX 4090", DRIVER_13, TorchInfo("2.13.0+cpu", "cpu"), "torch.cpu-build", "install-cuda-torch", "CUDA 13.0"),
    ("NVIDIA GeForce RTX 4090", {"driver": "551.86", "cuda": 12040}, TorchInfo("2.13.0+cpu", "cpu"),
     "torch.cpu-build-old-driver", "update-driver", "560.28.03"),
    ("NVIDIA GeForce RTX 5090", DRIVER_13, TorchInfo("2.7.0+cu126", "cuda", "12.6"), "torch.arch-missing", "repair-torch", "sm_120"),
    ("NVIDIA GeForce GTX 1080", DRIVER_13, TorchInfo("2.13.0+cu130", "cuda", "13.0"), "torch.arch-missing", "repair-torch", "CUDA 12.6"),
    ("NVIDIA GeForce RTX 3060", DRIVER_128, TorchInfo("2.13.0+cu130", "cuda", "13.0"), "torch.driver-old-repair", "repair-torch", "CUDA 12.6"),
    ("NVIDIA GeForce RTX 5090", DRIVER_128, TorchInfo("2.13.0+cu130", "cuda", "13.0"), "torch.driver-old", "update-driver", "12.8"),
    ("NVIDIA GeForce GTX 1080", DRIVER_13, TorchInfo("2.13.0+cu126", "cuda", "12.6"), "torch.ok", None, "cu126"),
    ("NVIDIA GeForce RTX 5090", DRIVER_13, TorchInfo("2.13.0+cu130", "cuda", "13.0"), "torch.ok", None, "cu130"),
])
def test_wrong_builds_are_named_with_a_repair(home, card, driver, torch, key, fix, says) -> None:
    report = check(home, probes=probes(FakeNvml([(card, 12 * GIB)], **driver), torch=torch))
    finding = report.finding("torch")
    assert (finding.key, finding.fix) == (key, fix)
    assert finding.verdict is (Verdict.OK if fix is None else Verdict.WARNING)
    title, reason, hint = finding.text("en")
    assert says in reason + hint
    assert "?" not in reason + hint
    assert finding.text("zh")[1] != reason


def test_nvml_reads_the_compute_capability_and_tolerates_an_old_driver() -> None:
    info = probe_nvml(FakeNvml([("NVIDIA GeForce RTX 5090", 32 * GIB), ("Mystery Card", 8 * GIB)]))
    assert [g.compute_capability for g in info.gpus] == [(12, 0), None]


def test_linux_adapters_from_sysfs(tmp_path: Path) -> None:
    for card, vendor, device in (("card0", "0x8086", "0xa780"), ("card1", "0x1002", "0x744c")):
        (tmp_path / card / "device").mkdir(parents=True)
        (tmp_path / card / "device" / "vendor").write_text(vendor + "\n")
        (tmp_path / card / "device" / "device").write_text(device + "\n")
    (tmp_path / "card1-HDMI-A-1").mkdir()
    assert [a.vendor for a in linux_adapters(tmp_path)] == ["intel", "amd"]
    assert "744c" in linux_adapters(tmp_path)[1].name


def test_windows_adapters_from_the_display_class_key() -> None:
    values = {"0000": "AMD Radeon RX 7900 XTX", "0001": "Microsoft Basic Display Adapter", "0002": "Intel(R) UHD Graphics 770"}
    found = windows_adapters(lambda _key: [*values, "Configuration", "Properties"],
                             lambda key, _name: values.get(key.rsplit("\\", 1)[-1]))
    assert found == [Adapter("AMD Radeon RX 7900 XTX", "amd"), Adapter("Intel(R) UHD Graphics 770", "intel")]


def test_an_amd_card_is_stated_not_silently_ignored(home) -> None:
    report = check(home, probes=probes(FakeNvml(init_error=12), adapters=(Adapter("AMD Radeon RX 6700 XT", "amd"),),
                                       platform="win32", arch="AMD64"))
    choice = choose(from_facts(report.facts))
    assert choice.key == "cpu.amd" and choice.needs_consent and choice.params["gpu"] == "AMD Radeon RX 6700 XT"


def test_an_nvidia_card_without_a_driver_is_blocked(home) -> None:
    report = check(home, probes=probes(FakeNvml(init_error=12), adapters=(Adapter("NVIDIA GeForce RTX 3060", "nvidia"),)))
    assert choose(from_facts(report.facts)).key == "blocked.no-driver"
