"""The PyTorch builds Maple can install, and what each one runs on. Data only, with its sources.

Sources (checked for this table; see docs/engine-install.md):

* PyTorch's ``RELEASE.md``, "Release Compatibility Matrix": torch 2.13 ships stable CUDA 12.6 and
  CUDA 13.0 builds and an experimental CUDA 13.2 build (no 11.8, 12.8 or 12.9 build for 2.13).
* The same file, "PyTorch CUDA Support Matrix" (releases 2.12-2.14), Linux x86 and Windows builds:
  CUDA 12.6.3 -> Maxwell 5.0, Pascal 6.0, Volta 7.0, Turing 7.5, Ampere 8.0/8.6, Hopper 9.0;
  CUDA 13.0.2 and 13.2.1 -> Turing 7.5, Ampere 8.0/8.6, Hopper 9.0, Blackwell 10.0 and 12.0
  (+PTX for 12.0 on Linux only). So an RTX 50 card (sm_120) needs the CUDA 13 build and a GTX 10
  card (sm_61) needs the CUDA 12.6 one: CUDA 13 dropped Maxwell, Pascal and Volta.
* NVIDIA's CUDA Toolkit release notes, Table 3 "CUDA Toolkit and Corresponding Driver Versions"
  (GA releases, Linux x86_64 / Windows x86_64): 11.8 >= 520.61.05 / 520.06; 12.1 >= 530.30.02 /
  531.14; 12.4 >= 550.54.14 / 551.61; 12.6 >= 560.28.03 / 560.76; 12.8 >= 570.26 / 570.65;
  12.9 >= 575.51.03 / 576.02; 13.0 >= 580.65.06 / N/A; 13.2 >= 595.45.04 / N/A. From CUDA 13 the
  Windows column is "N/A" (the toolkit no longer bundles a Windows driver); the OS-independent
  table gives ">= 580" for CUDA 13.x.
* NVIDIA's CUDA C++ Programming Guide, binary compatibility: code built for compute capability X.y
  runs on X.z for z >= y (same major only); PTX is compiled on the fly for any newer capability.
  So a build with sm_60 runs on an sm_61 card, and an sm_90 build does not run on sm_120.
* Architectures of older installed builds (for judging a torch already there): the ``conda``
  packages' compiled architecture lists gathered per release (torch 1.x-2.7), e.g. 2.5.1 CUDA
  11.8/12.1/12.4 with sm_50..sm_90 including sm_61, 2.7.0 CUDA 12.8 with sm_75..sm_120.
"""

from __future__ import annotations

from dataclasses import dataclass

Capability = tuple[int, int]

TORCH_VERSION = "2.13.0"
TORCHVISION_VERSION = "0.28.0"  # torchvision 0.(minor + 15) pairs with torch 2.minor
PYTORCH_INDEX = "https://download.pytorch.org/whl/{variant}"  # PyTorch's own wheel index


@dataclass(frozen=True)
class TorchBuild:
    """One build of :data:`TORCH_VERSION`: ``variant`` is the wheel's local label ("cu130", "cpu")."""

    variant: str
    cuda: str | None  # "13.0"; None for the CPU build
    archs: tuple[Capability, ...] = ()
    ptx: Capability | None = None  # the newest capability shipped as PTX (JIT on newer cards)
    ptx_platforms: tuple[str, ...] = ()
    stable: bool = True

    @property
    def is_cuda(self) -> bool:
        return self.cuda is not None

    def label(self) -> str:
        return f"CUDA {self.cuda}" if self.cuda else "CPU"


X86_CUDA126 = ((5, 0), (6, 0), (7, 0), (7, 5), (8, 0), (8, 6), (9, 0))
X86_CUDA13 = ((7, 5), (8, 0), (8, 6), (9, 0), (10, 0), (12, 0))
ARM_CUDA126 = ((8, 0), (9, 0))
ARM_CUDA13 = ((8, 0), (9, 0), (10, 0), (11, 0), (12, 0))

CPU = TorchBuild("cpu", None)
# Newest first: the first build that fits the driver and the card is the one installed.
BUILDS_X86: tuple[TorchBuild, ...] = (
    TorchBuild("cu132", "13.2", X86_CUDA13, (12, 0), ("linux",), stable=False),
    TorchBuild("cu130", "13.0", X86_CUDA13, (12, 0), ("linux",)),
    TorchBuild("cu126", "12.6", X86_CUDA126),
)
BUILDS_ARM: tuple[TorchBuild, ...] = (
    TorchBuild("cu132", "13.2", ARM_CUDA13, (12, 0), ("linux",), stable=False),
    TorchBuild("cu130", "13.0", ARM_CUDA13, (12, 0), ("linux",)),
    TorchBuild("cu126", "12.6", ARM_CUDA126),
)

# The oldest driver each CUDA version's GA toolkit needs: (Linux, Windows).
MIN_DRIVER: dict[str, tuple[str, str]] = {
    "11.8": ("520.61.05", "520.06"),
    "12.1": ("530.30.02", "531.14"),
    "12.4": ("550.54.14", "551.61"),
    "12.6": ("560.28.03", "560.76"),
    "12.8": ("570.26", "570.65"),
    "12.9": ("575.51.03", "576.02"),
    "13.0": ("580.65.06", "580"),
    "13.2": ("595.45.04", "595"),
}

# Compiled architectures of builds of other torch versions, by CUDA version (x86_64): used only to
# judge a torch that is already installed. CUDA versions not listed are not judged.
ARCHS_BY_CUDA: dict[str, tuple[Capability, ...]] = {
    "11.8": ((3, 7), (5, 0), (6, 0), (6, 1), (7, 0), (7, 5), (8, 0), (8, 6), (9, 0)),
    "12.1": ((5, 0), (6, 0), (6, 1), (7, 0), (7, 5), (8, 0), (8, 6), (9, 0)),
    "12.4": ((5, 0), (6, 0), (6, 1), (7, 0), (7, 5), (8, 0), (8, 6), (9, 0)),
    "12.6": X86_CUDA126,
    "12.8": ((7, 5), (8, 0), (8, 6), (9, 0), (10, 0), (12, 0)),
    "13.0": X86_CUDA13,
    "13.2": X86_CUDA13,
}


def builds_for(machine_arch: str) -> tuple[TorchBuild, ...]:
    """The CUDA builds for a processor architecture (``platform.machine()``)."""
    return BUILDS_ARM if machine_arch.lower() in ("aarch64", "arm64") else BUILDS_X86


def cuda_tuple(version: str | None) -> tuple[int, int] | None:
    """"12.6" -> (12, 6); None for anything unreadable."""
    try:
        major, _, minor = str(version).partition(".")
        return int(major), int(minor.split(".")[0] or 0)
    except ValueError:
        return None


def min_driver(cuda: str, platform: str) -> str:
    linux, windows = MIN_DRIVER.get(cuda, ("?", "?"))
    return windows if platform == "win32" else linux


def torch_index_for(build: TorchBuild, setting: str = "") -> str:
    """Where ``build`` comes from: "" (the package index) for the default build; else the user's
    PyTorch index or mirror (``{variant}`` in it is replaced by "cu130", "cpu", ...), else PyTorch's own."""
    if not build.variant:
        return ""
    template = setting.strip() or PYTORCH_INDEX
    return template.replace("{variant}", build.variant)
