"""The machine check on fixed machines: what a user with each kind of PC is told."""

from __future__ import annotations

import json
import re

import pynvml
import pytest

from installer.machine.longpaths import LongPaths
from installer.machine.probes import PortInfo, TorchInfo
from installer.machine.report import check
from installer.machine.verdicts import Verdict
from tests.installer.fake_machine import GIB, MIB, FakeNvml, FakePsutil, probes

RTX_4090 = ("NVIDIA GeForce RTX 4090", 24564 * MIB)  # what NVML reports for a 24 GB card


def verdicts(report) -> dict[str, Verdict]:
    return {f.id: f.verdict for f in report.findings}


def test_a_good_machine_has_no_warnings(home):
    report = check(home, probes=probes(FakeNvml([("NVIDIA GeForce RTX 3060", 12288 * MIB)])))
    assert set(verdicts(report).values()) == {Verdict.OK}
    assert report.engine_args() == ["--device", "cuda", "--precision", "fp16", "--vram-mode", "high"]
    title, reason, hint = report.finding("gpu").text("en")
    assert (title, hint) == ("GPU", "")
    assert reason == "GPU 0: NVIDIA GeForce RTX 3060, 12.0 GB (driver 550.54.14, CUDA 12.4)"


def test_no_nvidia_driver_falls_back_to_the_cpu_and_says_it_is_slow(home):
    nvml = FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    report = check(home, probes=probes(nvml, torch=TorchInfo("2.13.0+cpu", "cpu")))
    gpu = report.finding("gpu")
    assert (gpu.verdict, gpu.key, gpu.fix) == (Verdict.WARNING, "gpu.no-driver", "install-driver")
    assert report.facts.nvml.status == "no-driver"
    assert report.engine_args() == ["--device", "cpu", "--precision", "fp32"]  # no VRAM words without a GPU
    assert "slow" in report.recommendation.note
    assert "很慢" in report.recommendation.note_text("zh")
    assert not report.blockers


def test_driver_without_gpu(home):
    report = check(home, probes=probes(FakeNvml([])))
    gpu = report.finding("gpu")
    assert (gpu.verdict, gpu.key) == (Verdict.WARNING, "gpu.none")
    assert "550.54.14" in gpu.text("en")[1]
    assert report.recommendation.device == "cpu"


def test_a_4gb_card_runs_on_the_gpu_in_medium_vram_mode_with_a_warning(home):
    report = check(home, probes=probes(FakeNvml([("NVIDIA GeForce GTX 1050 Ti", 4096 * MIB)])))
    gpu = report.finding("gpu")
    assert (gpu.verdict, gpu.key) == (Verdict.WARNING, "gpu.small")
    assert "less than the 6 GB" in gpu.text("en")[1]
    assert report.engine_args() == ["--device", "cuda", "--precision", "fp16", "--vram-mode", "medium"]


def test_two_24gb_cards_are_both_listed_and_gpu_0_is_used(home):
    report = check(home, probes=probes(FakeNvml([RTX_4090, RTX_4090])))
    gpu = report.finding("gpu")
    assert (gpu.verdict, gpu.key) == (Verdict.OK, "gpu.ok-many")
    reason = gpu.text("en")[1]
    assert "GPU 0: NVIDIA GeForce RTX 4090, 24.0 GB" in reason and "GPU 1: NVIDIA GeForce RTX 4090" in reason
    assert len(report.facts.nvml.gpus) == 2
    assert report.recommendation.vram_mode == "high" and report.recommendation.vram_mode_sdxl == "high"
    assert "GPU 0" in report.recommendation.note


def test_an_nvml_error_is_a_finding_not_a_crash(home):
    report = check(home, probes=probes(FakeNvml([RTX_4090], init_error=pynvml.NVML_ERROR_UNKNOWN)))
    gpu = report.finding("gpu")
    assert (gpu.verdict, gpu.key) == (Verdict.WARNING, "gpu.error")
    assert "Unknown Error" in gpu.text("en")[1]
    assert report.recommendation.device == "cpu"


def test_a_gpu_lost_while_reading_is_a_finding_and_nvml_is_shut_down(home):
    nvml = FakeNvml([RTX_4090], memory_error=pynvml.NVML_ERROR_GPU_IS_LOST)
    report = check(home, probes=probes(nvml))
    assert report.finding("gpu").key == "gpu.error"
    assert nvml.shut_down


def test_old_nvml_bytes_driver_version_is_read(home):
    report = check(home, probes=probes(FakeNvml([RTX_4090], driver=b"470.82.01", cuda=11040)))
    assert report.facts.nvml.driver_version == "470.82.01"
    assert report.facts.nvml.cuda_version == "11.4"


def test_a_full_disk_is_a_blocker_with_the_free_disk_fix(home):
    ps = FakePsutil(disk_free=1 * GIB)
    report = check(home, probes=probes(FakeNvml([RTX_4090]), ps))
    disk = report.finding("disk")
    assert (disk.verdict, disk.fix) == (Verdict.BLOCKER, "free-disk")
    assert report.blockers == [disk]
    assert report.to_dict()["ok"] is False
    assert ps.disk_paths == [str(home.root)]


def test_disk_is_measured_on_the_nearest_existing_folder_of_a_new_home(tmp_path):
    ps = FakePsutil()
    report = check(tmp_path / "not" / "yet", probes=probes(ps=ps))
    assert ps.disk_paths == [str(tmp_path)]
    assert not (tmp_path / "not").exists()
    assert report.facts.home == str(tmp_path / "not" / "yet")


def test_missing_torch_is_a_blocker(home):
    report = check(home, probes=probes(FakeNvml([RTX_4090]), torch=None))
    torch = report.finding("torch")
    assert (torch.verdict, torch.key, torch.fix) == (Verdict.BLOCKER, "torch.missing", "install-torch")
    assert report.recommendation.device == "cuda"  # the set-up will install the CUDA build


def test_cpu_torch_on_an_nvidia_machine_says_torch_cannot_use_the_gpu(home):
    nvml = FakeNvml([RTX_4090], driver="580.95.05", cuda=13000)  # a driver the CUDA 13.0 build runs on
    report = check(home, probes=probes(nvml, torch=TorchInfo("2.13.0+cpu", "cpu")))
    torch = report.finding("torch")
    assert (torch.verdict, torch.fix) == (Verdict.WARNING, "install-cuda-torch")
    assert report.recommendation.device == "cpu"
    assert "cannot use the GPU" in report.recommendation.note


def test_torch_built_for_a_newer_cuda_than_the_driver(home):
    nvml = FakeNvml([RTX_4090], cuda=11080)
    report = check(home, probes=probes(nvml, torch=TorchInfo("2.7.0+cu128", "cuda", "12.8")))
    torch = report.finding("torch")
    assert (torch.verdict, torch.fix) == (Verdict.WARNING, "update-driver")
    assert "CUDA 12.8" in torch.text("en")[1] and "11.8" in torch.text("en")[1]


def test_gtx_16_cards_run_at_full_precision(home):
    report = check(home, probes=probes(FakeNvml([("NVIDIA GeForce GTX 1660 SUPER", 6144 * MIB)])))
    assert report.recommendation.precision == "fp32"
    assert "black images" in report.recommendation.note


def test_an_8gb_card_uses_medium_for_sdxl_only(home):
    report = check(home, probes=probes(FakeNvml([("NVIDIA GeForce RTX 3070", 8192 * MIB)])))
    assert report.engine_args()[-1] == "high"
    assert report.engine_args("sd1")[-1] == "high"
    assert report.engine_args("sdxl")[-1] == "medium"
    assert report.engine_args("sdxl-refiner")[-1] == "medium"


def test_apple_silicon_uses_metal(home):
    nvml = FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    report = check(home, probes=probes(nvml, torch=TorchInfo("2.5.0", "cpu"), platform="darwin", arch="arm64"))
    assert report.finding("gpu").verdict is Verdict.OK
    assert report.recommendation.device == "mps"


def test_long_paths_off_on_windows_offers_the_fix(home):
    report = check(home, probes=probes(long_paths=LongPaths.DISABLED, platform="win32"))
    finding = report.finding("long-paths")
    assert (finding.verdict, finding.fix) == (Verdict.WARNING, "enable-long-paths")
    assert "未启用长路径支持" in finding.text("zh")[1]
    assert check(home, probes=probes(long_paths=LongPaths.ENABLED)).finding("long-paths").verdict is Verdict.OK


def test_long_and_non_ascii_home_paths_are_warned_about(tmp_path):
    long_home = tmp_path / ("x" * 90)
    report = check(long_home, probes=probes())
    finding = report.finding("home-path-length")
    assert (finding.verdict, finding.fix) == (Verdict.WARNING, "choose-home")
    assert str(len(str(long_home))) in finding.text("en")[1]
    assert report.finding("home-path-ascii").verdict is Verdict.OK
    report = check(tmp_path / "图片" / "Maple", probes=probes())
    assert report.finding("home-path-ascii").verdict is Verdict.WARNING
    assert report.finding("home-path-length").verdict is Verdict.OK


def test_port_in_use_names_the_owner_and_the_next_port(home):
    port = PortInfo(7860, True, "python.exe (pid 4242)", 7861)
    finding = check(home, probes=probes(port=port)).finding("port")
    assert (finding.verdict, finding.fix) == (Verdict.WARNING, "choose-port")
    title, reason, hint = finding.text("en")
    assert reason == "7860 is in use by python.exe (pid 4242)"
    assert "7861" in hint
    assert finding.text("zh")[1] == "端口 7860 已被 python.exe (pid 4242) 占用"
    unknown = check(home, probes=probes(port=PortInfo(7860, True, None, 7861))).finding("port")
    assert unknown.text("en")[1] == "7860 is in use by another program"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_text_is_filled_in_both_languages(home, lang):
    machines = [
        probes(FakeNvml([RTX_4090, RTX_4090])),
        probes(FakeNvml(init_error=pynvml.NVML_ERROR_DRIVER_NOT_LOADED), FakePsutil(ram_total=2 * GIB, disk_free=0)),
        probes(FakeNvml([("GTX 1650", 4096 * MIB)]), long_paths=LongPaths.UNKNOWN, port=PortInfo(7860, True, "x", 7861)),
    ]
    for machine in machines:
        data = check(home, probes=machine).to_dict(lang)
        json.dumps(data)
        texts = [f[k] for f in data["findings"] for k in ("title", "reason", "hint")]
        texts.append(data["recommendation"]["note"])
        unfilled = [t for t in texts if "{" in t or "?" in t or re.fullmatch(r"[a-z-]+\.[a-z-]+", t)]
        assert unfilled == []
        if lang == "zh":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(texts))
