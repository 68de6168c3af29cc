"""The engine installer's words in English and Chinese: the choice, progress and errors."""

from __future__ import annotations

from collections.abc import Mapping

from installer.engine_install.builds import TORCH_VERSION

TEXTS: dict[str, dict[str, str]] = {
    "gpu.newest": {
        "en": "{gpu} ({arch}), driver {driver} (CUDA {driver_cuda}): PyTorch {torch}, {build} build.",
        "zh": "{gpu}（{arch}），驱动 {driver}（CUDA {driver_cuda}）：安装 PyTorch {torch} 的 {build} 版本。",
    },
    "gpu.older-for-card": {
        "en": "{gpu} ({arch}): PyTorch {torch}, {build} build. The {newest} build no longer supports this card's architecture.",
        "zh": "{gpu}（{arch}）：安装 PyTorch {torch} 的 {build} 版本。{newest} 版本已不再支持这张显卡的架构。",
    },
    "gpu.older-for-driver": {
        "en": "{gpu} ({arch}), driver {driver} (CUDA {driver_cuda}): PyTorch {torch}, {build} build. "
              "A driver {newest_driver} or newer would allow the {newest} build.",
        "zh": "{gpu}（{arch}），驱动 {driver}（CUDA {driver_cuda}）：安装 PyTorch {torch} 的 {build} 版本。"
              "升级驱动到 {newest_driver} 或更新版本后可使用 {newest} 版本。",
    },
    "gpu.capability-unknown": {
        "en": "{gpu}, driver {driver} (CUDA {driver_cuda}): PyTorch {torch}, {build} build. The card's architecture "
              "could not be read; the install is checked on the card before it is used.",
        "zh": "{gpu}，驱动 {driver}（CUDA {driver_cuda}）：安装 PyTorch {torch} 的 {build} 版本。无法读取显卡架构；"
              "安装完成后会先在显卡上验证再启用。",
    },
    "blocked.driver-too-old": {
        "en": "{gpu}: the NVIDIA driver {driver} supports CUDA {driver_cuda} only; PyTorch {torch} for this card needs "
              "the {build} build and a driver {min_driver} or newer. Update the driver, or install the CPU build (slow).",
        "zh": "{gpu}：NVIDIA 驱动 {driver} 只支持 CUDA {driver_cuda}；这张显卡需要 PyTorch {torch} 的 {build} 版本，"
              "要求驱动 {min_driver} 或更新。请更新驱动，或安装 CPU 版本（很慢）。",
    },
    "blocked.card-too-old": {
        "en": "{gpu} ({arch}) is too old for PyTorch {torch}, whose oldest supported architecture is sm_50 (Maxwell). "
              "Maple can install the CPU build: generating works, slowly.",
        "zh": "{gpu}（{arch}）太旧，PyTorch {torch} 最早只支持 sm_50（Maxwell）架构。Maple 可以安装 CPU 版本：能生成，但很慢。",
    },
    "blocked.card-unsupported": {
        "en": "No PyTorch {torch} build for this system supports {gpu} ({arch}). Maple can install the CPU build: generating works, slowly.",
        "zh": "PyTorch {torch} 没有适用于本系统且支持 {gpu}（{arch}）的版本。Maple 可以安装 CPU 版本：能生成，但很慢。",
    },
    "blocked.no-driver": {
        "en": "{gpu} was found but no NVIDIA driver answers. Install the NVIDIA driver and check again, or install the CPU build (slow).",
        "zh": "发现了 {gpu}，但 NVIDIA 驱动没有响应。请安装 NVIDIA 驱动后重新检测，或安装 CPU 版本（很慢）。",
    },
    "cpu.none": {
        "en": "No NVIDIA GPU: Maple installs the CPU build of PyTorch {torch}. Generating will be slow: minutes per image.",
        "zh": "没有 NVIDIA 显卡：Maple 将安装 PyTorch {torch} 的 CPU 版本。生成会很慢：每张图需要几分钟。",
    },
    "cpu.amd": {
        "en": "{gpu}: Maple generates on NVIDIA GPUs (CUDA) and on the CPU today; AMD GPUs (ROCm, DirectML) are not "
              "supported yet. Maple can install the CPU build: generating works, slowly (minutes per image).",
        "zh": "{gpu}：Maple 目前支持 NVIDIA 显卡（CUDA）和 CPU 生成，暂不支持 AMD 显卡（ROCm、DirectML）。"
              "Maple 可以安装 CPU 版本：能生成，但很慢（每张图几分钟）。",
    },
    "cpu.intel": {
        "en": "{gpu}: Maple generates on NVIDIA GPUs (CUDA) and on the CPU today; Intel GPUs (XPU) are not supported "
              "yet. Maple can install the CPU build: generating works, slowly (minutes per image).",
        "zh": "{gpu}：Maple 目前支持 NVIDIA 显卡（CUDA）和 CPU 生成，暂不支持 Intel 显卡（XPU）。"
              "Maple 可以安装 CPU 版本：能生成，但很慢（每张图几分钟）。",
    },
    "cpu.mac": {
        "en": "macOS: PyTorch {torch} from the package index (Apple Metal on Apple silicon).",
        "zh": "macOS：从软件源安装 PyTorch {torch}（Apple 芯片上使用 Metal 加速）。",
    },
}


class _Fields(dict[str, object]):
    def __missing__(self, key: str) -> object:
        return "?"


def text(key: str, lang: str = "en", params: Mapping[str, object] | None = None) -> str:
    """The sentence for ``key`` in ``lang`` ("en" or "zh"); the key itself if unknown."""
    entry = TEXTS.get(key)
    if entry is None:
        return key
    fields = _Fields({"torch": TORCH_VERSION} | dict(params or {}))
    return (entry.get(lang) or entry["en"]).format_map(fields)
