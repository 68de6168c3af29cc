"""A scripted stand-in for ``python -m engine``: same flags, same console lines, same endpoints.

FAKE_ENGINE_MODE picks the script:
  ok        bind, print the start-up lines (and, started by Maple, the ready line), serve
            /maple/v1/ready and /maple/v1/shutdown
  crash     print a CUDA out-of-memory traceback and exit with code 3
  stubborn  like ok, but ignores shutdown and starts a child that ignores SIGTERM (tree kill)
  startfail binds and serves, then says its start-up failed (and keeps running, as the engine does)
  flood     like ok, then prints FAKE_ENGINE_RATE lines per second (default 10000)
FAKE_ENGINE_DELAY: seconds between binding and "Startup time" (default 0.2).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: find Maple's packages

from installer.contract import EngineReady, ready_line  # noqa: E402


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--home", default="")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--parent-pid", type=int, default=0)
    p.add_argument("--listen", action="store_true")
    p.add_argument("--allow-pickle", action="store_true")
    for flag in ("--device", "--precision", "--vram-mode", "--model", "--api-auth", "--host"):
        p.add_argument(flag, default="")
    return p.parse_args()


def serve(port: int, ready: threading.Event, stop: threading.Event, obey: bool) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/maple/v1/ready":
                self._json({"ready": ready.is_set(), "model": "fake", "startup_time": 0.2})
            else:
                self.send_error(404)

        def do_POST(self) -> None:  # noqa: N802
            if self.path == "/maple/v1/shutdown":
                print("shutdown requested", flush=True)
                self._json({"ok": True})
                if obey:
                    stop.set()
            else:
                self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def watch_parent(pid: int, stop: threading.Event) -> None:
    import psutil

    while not stop.wait(0.3):
        if not psutil.pid_exists(pid):
            stop.set()


def main() -> int:
    args = parse()
    mode = os.environ.get("FAKE_ENGINE_MODE", "ok")
    print(f"fake engine {mode} args={' '.join(sys.argv[1:])}", flush=True)
    if mode == "crash":
        print("Loading model...", flush=True)
        print("Traceback (most recent call last):", flush=True)
        print("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", flush=True)
        return 3
    ready, stop = threading.Event(), threading.Event()
    server = serve(args.port, ready, stop, obey=mode != "stubborn")
    print(f"Running on local URL:  http://127.0.0.1:{args.port}", flush=True)
    print("已加载模型：演示模型", flush=True)  # non-ASCII output must arrive intact
    time.sleep(float(os.environ.get("FAKE_ENGINE_DELAY", "0.2")))
    if mode == "startfail":
        print("ERROR: Could not load broken.safetensors: incomplete metadata", flush=True)
        print("ERROR: start-up failed: No checkpoint could be loaded (Check the files with maple-models verify.)", flush=True)
        stop.wait()
        server.shutdown()
        return 0
    ready.set()
    print("Startup time: 0.4s (import torch: 0.1s, load model: 0.1s)", flush=True)
    if args.parent_pid:  # started by Maple's launcher, as the engine
        print(ready_line(EngineReady(f"http://127.0.0.1:{args.port}", 0.4)), flush=True)
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid, stop), daemon=True).start()
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)"
        subprocess.Popen([sys.executable, "-c", child])
        print("child started", flush=True)
    if mode == "flood":
        flood(stop, int(os.environ.get("FAKE_ENGINE_RATE", "10000")))
    stop.wait()
    print("Stopping the engine...", flush=True)  # the real engine's lines as it leaves
    server.shutdown()
    print("Engine stopped.", flush=True)
    return 0


def flood(stop: threading.Event, rate: int) -> None:
    n, start, chunk = 0, time.monotonic(), max(1, rate // 100)
    out = sys.stdout
    while not stop.is_set():
        lines = "".join(
            f"{'WARNING' if (n + i) % 50 == 0 else 'INFO'} step {n + i}: sampling 12/20 it/s 3.4\n"
            for i in range(chunk)
        )
        out.write(lines)
        out.flush()
        n += chunk
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)


if __name__ == "__main__":
    sys.exit(main())
