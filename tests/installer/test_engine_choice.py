"""The PyTorch build each machine gets: the decision table, row by row, with no machine needed."""

from __future__ import annotations

import pytest

from installer.engine_install.arch import arch_list_runs_on
from installer.engine_install.builds import X86_CUDA13, X86_CUDA126
from installer.engine_install.choice import EngineMachine, Gpu, Outcome, choose
from installer.engine_install.texts import text

RTX4090 = Gpu("NVIDIA GeForce RTX 4090", "nvidia", (8, 9))
RTX5090 = Gpu("NVIDIA GeForce RTX 5090", "nvidia", (12, 0))
RTX3060 = Gpu("NVIDIA GeForce RTX 3060", "nvidia", (8, 6))
GTX1080 = Gpu("NVIDIA GeForce GTX 1080", "nvidia", (6, 1))
V100 = Gpu("Tesla V100-SXM2-16GB", "nvidia", (7, 0))
K80 = Gpu("Tesla K80", "nvidia", (3, 7))
H100 = Gpu("NVIDIA H100 80GB HBM3", "nvidia", (9, 0))
GB10 = Gpu("NVIDIA GB10", "nvidia", (12, 1))
UNKNOWN = Gpu("NVIDIA Future Card", "nvidia", None)
RADEON = Gpu("AMD Radeon RX 7900 XTX", "amd")
ARC = Gpu("Intel(R) Arc(TM) A770 Graphics", "intel")
IRIS = Gpu("Intel(R) Iris(R) Xe Graphics", "intel")


def machine(*gpus: Gpu, cuda: str | None = "13.0", driver: str = "581.57", platform: str = "win32",
            arch: str = "AMD64") -> EngineMachine:
    has_nvidia = any(g.vendor == "nvidia" for g in gpus)
    return EngineMachine(platform, arch, gpus, driver if has_nvidia else None, cuda if has_nvidia else None)


# (machine, variant installed, outcome, reason key)
TABLE = [
    (machine(RTX4090), "cu130", Outcome.GPU, "gpu.newest"),
    (machine(RTX5090), "cu130", Outcome.GPU, "gpu.newest"),
    (machine(RTX5090, cuda="12.8", driver="572.16"), "", Outcome.BLOCKED, "blocked.driver-too-old"),
    (machine(GTX1080), "cu126", Outcome.GPU, "gpu.older-for-card"),
    (machine(GTX1080, cuda="12.6", driver="560.94"), "cu126", Outcome.GPU, "gpu.older-for-card"),
    (machine(GTX1080, cuda="12.4", driver="551.86"), "", Outcome.BLOCKED, "blocked.driver-too-old"),
    (machine(RTX3060, cuda="12.8", driver="572.16"), "cu126", Outcome.GPU, "gpu.older-for-driver"),
    (machine(RTX3060, cuda="12.9", driver="575.64", platform="linux", arch="x86_64"), "cu126", Outcome.GPU, "gpu.older-for-driver"),
    (machine(V100, platform="linux", arch="x86_64"), "cu126", Outcome.GPU, "gpu.older-for-card"),
    (machine(K80, cuda="12.4"), "", Outcome.BLOCKED, "blocked.card-too-old"),
    (machine(H100, platform="linux", arch="x86_64"), "cu130", Outcome.GPU, "gpu.newest"),
    (machine(GB10, platform="linux", arch="aarch64"), "cu130", Outcome.GPU, "gpu.newest"),
    (machine(UNKNOWN), "cu130", Outcome.GPU, "gpu.capability-unknown"),
    (machine(IRIS, RTX4090), "cu130", Outcome.GPU, "gpu.newest"),  # a laptop: the NVIDIA card is used
    (machine(), "", Outcome.CPU, "cpu.none"),
    (machine(platform="linux", arch="x86_64"), "cpu", Outcome.CPU, "cpu.none"),
    (machine(RADEON), "", Outcome.CPU, "cpu.amd"),
    (machine(ARC), "", Outcome.CPU, "cpu.intel"),
    (machine(platform="darwin", arch="arm64"), "", Outcome.CPU, "cpu.mac"),
    (EngineMachine("linux", "x86_64", (RTX4090,)), "cpu", Outcome.BLOCKED, "blocked.no-driver"),
    (machine(RTX4090, platform="win32", arch="ARM64"), "", Outcome.BLOCKED, "blocked.card-unsupported"),
]


@pytest.mark.parametrize(("facts", "variant", "outcome", "key"), TABLE)
def test_decision_table(facts: EngineMachine, variant: str, outcome: Outcome, key: str) -> None:
    choice = choose(facts)
    assert (choice.build.variant, choice.outcome, choice.key) == (variant, outcome, key)
    assert choice.slow is (outcome is not Outcome.GPU and key != "cpu.mac")
    # a machine with a GPU Maple will not use is never given the CPU build without being asked
    assert choice.needs_consent is (outcome is Outcome.BLOCKED or key in ("cpu.amd", "cpu.intel"))
    for lang in ("en", "zh"):
        sentence = text(choice.key, lang, choice.params)
        assert "?" not in sentence.replace("(?", "") and sentence != choice.key


def test_pins_are_a_matched_pair_from_one_build() -> None:
    gpu = choose(machine(RTX4090))
    assert (gpu.torch_requirement, gpu.torchvision_requirement) == ("torch==2.13.0+cu130", "torchvision==0.28.0+cu130")
    old = choose(machine(GTX1080))
    assert (old.torch_requirement, old.torchvision_requirement) == ("torch==2.13.0+cu126", "torchvision==0.28.0+cu126")
    assert choose(machine(platform="linux", arch="x86_64")).torch_requirement == "torch==2.13.0+cpu"
    assert choose(machine()).torch_requirement == "torch==2.13.0"  # Windows' default index serves the CPU build


def test_driver_advice_names_the_driver_each_system_needs() -> None:
    blocked = choose(machine(RTX5090, cuda="12.8", driver="572.16"))
    assert blocked.params["min_driver"] == "580" and blocked.params["build"] == "CUDA 13.0"
    linux = choose(machine(GTX1080, cuda="12.4", driver="550.54.15", platform="linux", arch="x86_64"))
    assert linux.params["min_driver"] == "560.28.03" and linux.params["build"] == "CUDA 12.6"
    assert "560.28.03" in text(linux.key, "en", linux.params)
    assert "驱动" in text(linux.key, "zh", linux.params)


@pytest.mark.parametrize(("arch_list", "card", "runs"), [
    (["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"], (6, 1), True),  # GTX 10 on sm_60 code
    (["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"], (12, 0), False),  # RTX 50 on cu126
    (["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120"], (6, 1), False),  # GTX 10 on cu130
    (["sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"], (12, 1), True),
    (["sm_80", "sm_90a"], (9, 0), True),
    (["sm_90a"], (9, 1), False),  # arch-specific code runs on exactly that card
    (["compute_90"], (12, 0), True),  # PTX is compiled for newer cards
    ([], (8, 6), False),
])
def test_arch_list_from_torch(arch_list: list[str], card: tuple[int, int], runs: bool) -> None:
    assert arch_list_runs_on(arch_list, card) is runs


def test_table_matches_the_release_matrix() -> None:
    assert (6, 1) not in X86_CUDA126 and (6, 0) in X86_CUDA126  # sm_61 runs on sm_60 code
    assert (12, 0) in X86_CUDA13 and (7, 0) not in X86_CUDA13
