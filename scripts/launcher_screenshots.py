"""Screenshots of every launcher page in English and Chinese.

    .venv/bin/python scripts/launcher_screenshots.py OUT_DIR [--theme light|dark] [--no-engine] [--readme]

Runs offscreen on a fresh data home with a small LoRA file (the engine writes its demo model) and a download
a "previous run" left half done (from a local server), which the models page shows paused. Unless --no-engine, it
starts the real engine first (CPU, the demo model), so the home and console pages show a running engine.
--readme also writes the English home page to docs/images/launcher-home.png.
Chinese text needs a CJK font (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LORA = {"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": [4, 32],
        "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": [32, 4]}


def write_safetensors(path: Path, tensors: dict[str, list[int]]) -> None:
    header, offset = {}, 0
    for name, shape in tensors.items():
        size = 2
        for dim in shape:
            size *= dim
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + os.urandom(offset))


def free_port(preferred: int = 7860) -> int:
    """7860 when it is free (as users will see it), else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(app, condition, seconds: float) -> bool:  # noqa: ANN001
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def leave_unfinished_download(home) -> None:  # noqa: ANN001
    """What a launcher closed mid-download leaves: a .part and the queue file (restored at the next start)."""
    import hashlib

    from installer.downloads import DownloadManager, DownloadSpec
    from tests.installer.fault_server import Faults, FaultServer

    data = os.urandom(6 * 1024 * 1024)
    with FaultServer() as server:
        url = server.add("/maple-leaf-detail.safetensors", data, Faults(rate=3_000_000))
        spec = DownloadSpec([("local", url)], home.models_dir("lora"), "maple-leaf-detail.safetensors",
                            len(data), hashlib.sha256(data).hexdigest(), "lora")
        manager = DownloadManager(home=home, connections=1)
        job_id = manager.add(spec)
        end = time.monotonic() + 30
        while time.monotonic() < end and next(j for j in manager.jobs() if j.id == job_id).progress.done < len(data) * 0.4:
            time.sleep(0.05)
        manager.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--no-engine", action="store_true")
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from installer.home import Home
    from installer.settings import Settings
    from launcher.app import PAGES
    from launcher.engine.process import EngineState
    from launcher.startup import build_window, create_app

    app = create_app(["maple"])
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "Maple").ensure()
        write_safetensors(home.models_dir("lora") / "maple-leaf-style.safetensors", LORA)
        leave_unfinished_download(home)
        settings = Settings(port=free_port(), open_browser=False, theme=args.theme, device="cpu")
        window = build_window(home, settings, "en")
        window.show()
        window.resize(1120, 760)
        ctx = window.ctx
        assert ctx is not None
        if not args.no_engine:
            ctx.start_engine()
            if not wait(app, lambda: ctx.engine.state in (EngineState.RUNNING, EngineState.CRASHED), 240):
                print("the engine did not start in time", file=sys.stderr)
        wait(app, lambda: ctx.report is not None, 30)
        for lang in ("en", "zh"):
            if lang != ctx.lang:
                ctx.save(ctx.settings.model_copy(update={"language": lang}))
            for name in PAGES:
                window.show_page(name)
                page = window.pages[name]
                if name == "models":
                    status = page.status  # type: ignore[attr-defined]
                    wait(app, lambda s=status: any(ch.isdigit() for ch in s.text()), 30)
                wait(app, lambda: False, 0.4)
                target = args.out / f"{lang}-{name}.png"
                window.grab().save(str(target))
                print(target)
        if args.readme:
            docs = ROOT / "docs" / "images"
            docs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.out / "en-home.png", docs / "launcher-home.png")
            print(docs / "launcher-home.png")
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
