"""Benchmark: what the request guards cost. ``/sdapi/v1/progress`` and a 64x64 txt2img over real
HTTP, through the engine's app as it ships (Host, Origin, body-size and incident middleware; the
request limits; the disconnect watch; the VAE decode guard) and through the same app with all of
that taken out, here only, side by side on one engine, rounds alternating.

    .venv/bin/python tests/bench/bench_guards.py [--rounds 8] [--progress 400] [--images 6]

Prints requests per second and p95 latency for both, and guarded / bare ratios (aim: <= 1.02x).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

GUARD_CLASSES = ("HostGuard", "OriginGuard", "CORSMiddleware", "BodyLimit", "IncidentMiddleware")
BODY = json.dumps({"prompt": "a cat", "width": 64, "height": 64, "steps": 2, "seed": 7, "save_images": True}).encode()


def bare_app(service: Any) -> Any:
    """The engine's app without the guard middleware (the other checks are switched off in ``bare``)."""
    from engine.server.app import create_app

    app = create_app(service)
    app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ not in GUARD_CLASSES]
    return app


async def _plain_call(request: Any, worker: Any, name: str, fn: Any, job_count: int = 1) -> Any:
    return await asyncio.wrap_future(worker.submit(name, fn, job_count))


@contextlib.contextmanager
def bare() -> Iterator[None]:
    """The request limits, the disconnect watch and the decode guard off, for the bare rounds."""
    from engine.generation import steps
    from engine.server import disconnect, limits

    with mock.patch.object(limits, "check_generation", lambda req: None), \
            mock.patch.object(disconnect, "call", _plain_call), \
            mock.patch.object(steps, "stoppable", lambda vae, control: contextlib.nullcontext()):
        yield


def timed(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> float:
    headers = {"Host": f"127.0.0.1:{conn.port}", "Content-Type": "application/json"}
    began = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    reply = conn.getresponse()
    reply.read()
    if reply.status != 200:
        raise RuntimeError(f"{method} {path}: {reply.status}")
    return time.perf_counter() - began


def run_round(port: int, progress: int, images: int) -> tuple[list[float], list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        polls = [timed(conn, "GET", "/sdapi/v1/progress?skip_current_image=false") for _ in range(progress)]
        gens = [timed(conn, "POST", "/sdapi/v1/txt2img", BODY) for _ in range(images)]
    finally:
        conn.close()
    return polls, gens


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def report(name: str, guarded: list[list[float]], bare_: list[list[float]]) -> None:
    g, b = [v for r in guarded for v in r], [v for r in bare_ for v in r]
    g_rps, b_rps = (statistics.median(len(r) / sum(r) for r in rounds) for rounds in (guarded, bare_))
    print(f"{name}: guarded {g_rps:.1f} req/s, p95 {p95(g) * 1000:.2f} ms, median {statistics.median(g) * 1000:.2f} ms"
          f" | bare {b_rps:.1f} req/s, p95 {p95(b) * 1000:.2f} ms, median {statistics.median(b) * 1000:.2f} ms")
    print(f"ratio {name} guarded/bare: time per request {b_rps / g_rps:.3f}x (by median rounds), "
          f"p95 {p95(g) / p95(b):.3f}x, median {statistics.median(g) / statistics.median(b):.3f}x (aim <= 1.02x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--progress", type=int, default=400, help="/progress requests per round")
    parser.add_argument("--images", type=int, default=6, help="64x64 txt2img requests per round")
    args = parser.parse_args()
    from engine.server.app import create_app
    from installer.home import Home
    from tests.engine.hostile_helpers import serve
    from tests.engine.server_helpers import populate, running_engine

    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "home").ensure()
        populate(home)
        with running_engine(home, "--model", "tiny.safetensors") as engine, \
                serve(create_app(engine.service)) as guarded_srv, serve(bare_app(engine.service)) as bare_srv:
            run_round(guarded_srv.port, 50, 2)  # warm both
            with bare():
                run_round(bare_srv.port, 50, 2)
            results: dict[str, list[tuple[list[float], list[float]]]] = {"guarded": [], "bare": []}
            for i in range(args.rounds):
                for side in (("guarded", "bare") if i % 2 == 0 else ("bare", "guarded")):
                    with bare() if side == "bare" else contextlib.nullcontext():
                        port = bare_srv.port if side == "bare" else guarded_srv.port
                        results[side].append(run_round(port, args.progress, args.images))
                print(f"round {i + 1}/{args.rounds} done", flush=True)
    print(f"{args.rounds} rounds, {args.progress} /progress and {args.images} txt2img 64x64 (2 steps, tiny SD1) each, "
          "CPU, one engine, guarded and bare apps alternating")
    report("/sdapi/v1/progress", [r[0] for r in results["guarded"]], [r[0] for r in results["bare"]])
    report("txt2img 64x64", [r[1] for r in results["guarded"]], [r[1] for r in results["bare"]])


if __name__ == "__main__":
    main()
