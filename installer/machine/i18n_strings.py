"""The machine check's words in English and Chinese. ``{name}`` fields come from the finding."""

from __future__ import annotations

TITLES: dict[str, dict[str, str]] = {
    "gpu": {"en": "GPU", "zh": "显卡"},
    "torch": {"en": "PyTorch", "zh": "PyTorch"},
    "ram": {"en": "Memory (RAM)", "zh": "内存"},
    "disk": {"en": "Free disk", "zh": "磁盘空间"},
    "cpu": {"en": "CPU", "zh": "处理器"},
    "python": {"en": "Python", "zh": "Python"},
    "long-paths": {"en": "Long paths", "zh": "长路径支持"},
    "home-path-length": {"en": "Data folder path", "zh": "数据目录路径"},
    "home-path-ascii": {"en": "Data folder name", "zh": "数据目录名称"},
    "port": {"en": "Port", "zh": "端口"},
}

# key: {lang: (reason, hint)}; an empty hint means there is nothing to do.
FINDINGS: dict[str, dict[str, tuple[str, str]]] = {
    "gpu.ok": {
        "en": ("{gpus} (driver {driver}, CUDA {cuda})", ""),
        "zh": ("{gpus}（驱动 {driver}，CUDA {cuda}）", ""),
    },
    "gpu.ok-many": {
        "en": ("{count} GPUs: {gpus} (driver {driver}, CUDA {cuda}); Maple uses GPU 0", ""),
        "zh": ("{count} 张显卡：{gpus}（驱动 {driver}，CUDA {cuda}）；Maple 使用 GPU 0", ""),
    },
    "gpu.small": {
        "en": ("{gpus}: less than the {min} GB of VRAM that generating on the GPU needs",
               "Maple uses a lower VRAM mode: it works, more slowly. Large images and SDXL may run out of memory."),
        "zh": ("{gpus}：显存不足生成所需的 {min} GB",
               "Maple 会使用低显存模式：可以运行，但更慢。大图和 SDXL 可能显存不足。"),
    },
    "gpu.apple": {
        "en": ("Apple Silicon: Maple generates with Metal (MPS)", ""),
        "zh": ("Apple 芯片：Maple 使用 Metal（MPS）生成", ""),
    },
    "gpu.no-driver": {
        "en": ("No NVIDIA driver found: Maple will generate on the CPU, which is slow",
               "If this PC has an NVIDIA card, install its driver from NVIDIA, then check again."),
        "zh": ("未找到 NVIDIA 驱动：Maple 将使用 CPU 生成，速度很慢",
               "如果这台电脑有 NVIDIA 显卡，请安装 NVIDIA 驱动后重新检测。"),
    },
    "gpu.none": {
        "en": ("The NVIDIA driver ({driver}) sees no GPU: Maple will generate on the CPU, which is slow",
               "Check that the card is seated and enabled, then check again."),
        "zh": ("NVIDIA 驱动（{driver}）未发现显卡：Maple 将使用 CPU 生成，速度很慢",
               "请确认显卡已正确安装并启用，然后重新检测。"),
    },
    "gpu.error": {
        "en": ("The GPU could not be read: {error}. Maple will generate on the CPU, which is slow",
               "Restart the PC or reinstall the NVIDIA driver, then check again."),
        "zh": ("无法读取显卡信息：{error}。Maple 将使用 CPU 生成，速度很慢",
               "请重启电脑或重新安装 NVIDIA 驱动，然后重新检测。"),
    },
    "torch.ok": {
        "en": ("{version} ({build} build)", ""),
        "zh": ("{version}（{build} 版本）", ""),
    },
    "torch.missing": {
        "en": ("PyTorch is not installed: the engine cannot start", "Run Maple's set-up again; it installs the right PyTorch."),
        "zh": ("未安装任何版本的 PyTorch：引擎无法启动", "请重新运行 Maple 的安装，它会安装合适的 PyTorch。"),
    },
    "torch.cpu-build": {
        "en": ("{version} is a CPU-only build: it cannot use your NVIDIA GPU",
               "Repair (Troubleshooting page, or python -m installer.engine_install) installs the {build} build for this card; "
               "the current engine keeps working until the new one is checked."),
        "zh": ("{version} 是仅 CPU 版本：无法使用你的 NVIDIA 显卡",
               "点击“修复”（疑难解答页，或运行 python -m installer.engine_install）即可为这张显卡安装 {build} 版本；"
               "新版本验证通过前，现有引擎照常可用。"),
    },
    "torch.cpu-build-old-driver": {
        "en": ("{version} is a CPU-only build, and the NVIDIA driver {driver} (CUDA {driver_cuda}) is too old for PyTorch's CUDA builds",
               "Update the NVIDIA driver to {min_driver} or newer, check again, then Repair installs the CUDA build."),
        "zh": ("{version} 是仅 CPU 版本，而 NVIDIA 驱动 {driver}（CUDA {driver_cuda}）对 PyTorch 的 CUDA 版本来说太旧",
               "请把 NVIDIA 驱动更新到 {min_driver} 或更新版本，重新检测后点击“修复”安装 CUDA 版本。"),
    },
    "torch.arch-missing": {
        "en": ("{version} is too old for {gpu}: it has no code for {arch}",
               "Repair installs the {build} build, which supports this card."),
        "zh": ("{version} 对 {gpu} 来说太旧：不包含 {arch} 架构的代码",
               "点击“修复”即可安装支持这张显卡的 {build} 版本。"),
    },
    "torch.driver-old-repair": {
        "en": ("{version} needs CUDA {cuda}; the driver supports CUDA {driver_cuda} only",
               "Repair installs the {build} build, which this driver runs (or update the NVIDIA driver)."),
        "zh": ("{version} 需要 CUDA {cuda}，而驱动只支持 CUDA {driver_cuda}",
               "点击“修复”即可安装此驱动能运行的 {build} 版本（或更新 NVIDIA 驱动）。"),
    },
    "torch.driver-old": {
        "en": ("{version} needs CUDA {cuda}; the driver supports CUDA {driver_cuda} only",
               "Update the NVIDIA driver, then check again."),
        "zh": ("{version} 需要 CUDA {cuda}，而驱动只支持 CUDA {driver_cuda}",
               "请更新 NVIDIA 驱动，然后重新检测。"),
    },
    "ram.ok": {
        "en": ("{total} ({available} available)", ""),
        "zh": ("{total}（可用 {available}）", ""),
    },
    "ram.low": {
        "en": ("{total} ({available} available): less than the recommended {min} GB",
               "Close other programs while generating; SDXL models may not load."),
        "zh": ("{total}（可用 {available}）：低于建议的 {min} GB", "生成时请关闭其他程序；SDXL 模型可能无法加载。"),
    },
    "ram.too-little": {
        "en": ("{total}: under {min} GB, too little to load a model", "Use a PC with more memory."),
        "zh": ("{total}：不足 {min} GB，无法加载模型", "请使用内存更大的电脑。"),
    },
    "disk.ok": {
        "en": ("{free} free on {path}", ""),
        "zh": ("{path} 剩余 {free}", ""),
    },
    "disk.low": {
        "en": ("{free} free on {path}: less than the recommended {min} GB",
               "Free some space or choose a data folder on a larger drive: one model takes 2-7 GB."),
        "zh": ("{path} 剩余 {free}：低于建议的 {min} GB", "请清理空间，或把数据目录放到更大的磁盘：一个模型占 2-7 GB。"),
    },
    "disk.full": {
        "en": ("{free} free on {path}: under {min} GB, no room for a model",
               "Free some space or choose a data folder on another drive (--home)."),
        "zh": ("{path} 仅剩 {free}：不足 {min} GB，放不下模型", "请清理空间，或用 --home 把数据目录放到其他磁盘。"),
    },
    "cpu.ok": {
        "en": ("{model} ({cores} cores, {threads} threads)", ""),
        "zh": ("{model}（{cores} 核 {threads} 线程）", ""),
    },
    "python.ok": {"en": ("{version}", ""), "zh": ("{version}", "")},
    "long-paths.not-needed": {"en": ("Not needed on this system", ""), "zh": ("此系统无需设置", "")},
    "long-paths.enabled": {"en": ("Enabled", ""), "zh": ("已启用", "")},
    "long-paths.disabled": {
        "en": ("Windows long path support is off: paths over 260 characters fail",
               "Run maple-doctor --enable-long-paths (asks for administrator rights)."),
        "zh": ("您的 Windows 未启用长路径支持：超过 260 个字符的路径会出错",
               "运行 maple-doctor --enable-long-paths（需要管理员权限）。"),
    },
    "long-paths.unknown": {
        "en": ("The long path setting could not be read", "Run maple-doctor --enable-long-paths to set it."),
        "zh": ("无法读取长路径设置", "运行 maple-doctor --enable-long-paths 进行设置。"),
    },
    "home.ok": {"en": ("{path}", ""), "zh": ("{path}", "")},
    "home.long": {
        "en": ("{path} is {length} characters long (over {max}): output files may hit path limits",
               "Choose a shorter data folder, e.g. C:\\Maple (--home)."),
        "zh": ("{path} 长 {length} 个字符（超过 {max}）：输出文件可能超出路径长度限制",
               "请选择更短的数据目录，例如 C:\\Maple（--home）。"),
    },
    "home.ascii": {"en": ("Plain ASCII name", ""), "zh": ("纯英文路径", "")},
    "home.non-ascii": {
        "en": ("{path} has non-ASCII characters: some tools fail on such paths",
               "Choose a data folder with only English letters and digits (--home)."),
        "zh": ("{path} 含有中文或其他非 ASCII 字符：部分工具在这类路径下会出错",
               "请选择只含英文字母和数字的数据目录（--home）。"),
    },
    "port.free": {"en": ("{port} is free", ""), "zh": ("{port} 可用", "")},
    "port.maple-here": {
        "en": ("{port}: Maple's own engine for this data folder is running there", ""),
        "zh": ("端口 {port}：本数据目录的 Maple 引擎正在运行", ""),
    },
    "port.maple-elsewhere": {
        "en": ("Maple's engine for this data folder is already running at {url}", ""),
        "zh": ("本数据目录的 Maple 引擎已在 {url} 运行", ""),
    },
    "port.maple-other": {
        "en": ("{port} is in use by the Maple engine of another data folder ({home})",
               "This data folder's engine will use port {next}."),
        "zh": ("端口 {port} 已被另一个数据目录（{home}）的 Maple 引擎占用", "本数据目录的引擎将使用端口 {next}。"),
    },
    "port.used-by": {
        "en": ("{port} is in use by {owner}", "Close that program, or Maple will use port {next}."),
        "zh": ("端口 {port} 已被 {owner} 占用", "请关闭该程序，否则 Maple 将使用端口 {next}。"),
    },
    "port.used": {
        "en": ("{port} is in use by another program", "Close that program, or Maple will use port {next}."),
        "zh": ("端口 {port} 已被其他程序占用", "请关闭该程序，否则 Maple 将使用端口 {next}。"),
    },
}

TEXTS: dict[str, dict[str, str]] = {
    "rec.gpu": {
        "en": "Generate on {name} with VRAM mode {mode}.",
        "zh": "使用 {name} 生成，显存模式 {mode}。",
    },
    "rec.gpu-sdxl-medium": {
        "en": "Generate on {name} with VRAM mode {mode}; SDXL models with {mode_sdxl}.",
        "zh": "使用 {name} 生成，显存模式 {mode}；SDXL 模型使用 {mode_sdxl}。",
    },
    "rec.gpu-many": {
        "en": "Generate on GPU 0 ({name}) with VRAM mode {mode}; SDXL with {mode_sdxl}. The other GPUs stay unused.",
        "zh": "使用 GPU 0（{name}）生成，显存模式 {mode}；SDXL 使用 {mode_sdxl}。其他显卡不会被使用。",
    },
    "rec.gpu-fp32": {
        "en": "Generate on {name} at full precision (fp32): GTX 16 cards give black images at fp16.",
        "zh": "使用 {name} 以全精度（fp32）生成：GTX 16 系列显卡在 fp16 下会出黑图。",
    },
    "rec.mps": {"en": "Generate with Apple Metal (MPS).", "zh": "使用 Apple Metal（MPS）生成。"},
    "rec.cpu": {
        "en": "No usable GPU: Maple will generate on the CPU ({cores} threads). This will be slow: minutes per image.",
        "zh": "没有可用的显卡：Maple 将使用 CPU（{cores} 线程）生成。这会很慢：每张图需要几分钟。",
    },
    "rec.cpu-torch": {
        "en": "The installed PyTorch cannot use the GPU, so Maple will generate on the CPU ({cores} threads). This will be slow: minutes per image.",
        "zh": "已安装的 PyTorch 无法使用显卡，Maple 将使用 CPU（{cores} 线程）生成。这会很慢：每张图需要几分钟。",
    },
    "ui.verdict.ok": {"en": "OK", "zh": "正常"},
    "ui.verdict.warning": {"en": "WARNING", "zh": "警告"},
    "ui.verdict.blocker": {"en": "BLOCKER", "zh": "阻止"},
    "ui.header": {"en": "Maple machine check — data folder: {home}", "zh": "Maple 电脑检测 — 数据目录：{home}"},
    "ui.fix": {"en": "Fix: ", "zh": "解决："},
    "ui.recommended": {"en": "Recommended engine settings: ", "zh": "推荐的引擎设置："},
    "ui.summary.ok": {"en": "Ready: nothing blocks Maple on this machine.", "zh": "检测通过：这台电脑可以运行 Maple。"},
    "ui.summary.warnings": {"en": "Ready, with {n} warning(s).", "zh": "可以运行，有 {n} 个警告。"},
    "ui.summary.blockers": {"en": "{n} problem(s) must be fixed before Maple can run.", "zh": "有 {n} 个问题必须先解决，Maple 才能运行。"},
    "lp.not-needed": {"en": "Long paths: not needed on this system.", "zh": "长路径支持：此系统无需设置。"},
    "lp.already-enabled": {"en": "Long paths are already enabled.", "zh": "长路径支持已经启用。"},
    "lp.enabled": {"en": "Long paths are now enabled.", "zh": "已启用长路径支持。"},
    "lp.declined": {"en": "The administrator prompt was declined: nothing was changed.", "zh": "已取消管理员授权：没有做任何更改。"},
    "lp.denied": {"en": "Access denied: nothing was changed. Ask an administrator to run maple-doctor --enable-long-paths.",
                  "zh": "权限不足：没有做任何更改。请让管理员运行 maple-doctor --enable-long-paths。"},
    "lp.failed": {"en": "Enabling long paths failed: {detail}", "zh": "启用长路径支持失败：{detail}"},
}
