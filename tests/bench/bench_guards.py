"""Benchmark: what the request guards cost. ``/sdapi/v1/progress`` and a 64x64 txt2img over real
HTTP, through the engine's app as it ships (Host, Origin, body-size and incident middleware; the
request limits; the disconnect watch; the VAE decode guard) and through the same app with all of
that taken out, here only, side by side on one engine, rounds alternating.

    .venv/bin/python tests/bench/bench_guards.py [--rounds 8] [--progress 400] [--images 6]

Prints requests per second and p95 latency for both, and guarded / bare ratios (aim: <= 1.02x): of
all requests, of each round with its pair, and of the process's CPU time per request (client,
server and worker are one process here), which other work on a shared machine disturbs least.
Then each check alone, in CPU microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
# Torch's OpenMP threads would busy-wait after each txt2img and bill the next polls; wait passively.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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


Round = dict[str, tuple[list[float], float]]  # kind -> (wall seconds per request, CPU seconds per request)


def run_round(port: int, progress: int, images: int) -> Round:
    """``progress`` polls then ``images`` generations on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out: Round = {}
    try:
        for kind, method, path, body, count in (("progress", "GET", "/sdapi/v1/progress?skip_current_image=false", None, progress),
                                                ("txt2img", "POST", "/sdapi/v1/txt2img", BODY, images)):
            time.sleep(0.2)  # let the other side's last job settle
            cpu = time.process_time()
            walls = [timed(conn, method, path, body) for _ in range(count)]
            out[kind] = (walls, (time.process_time() - cpu) / count)
    finally:
        conn.close()
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def report(name: str, guarded: list[tuple[list[float], float]], bare_: list[tuple[list[float], float]]) -> None:
    """Requests per second and p95 of each side; ratios overall, of each round with its pair, and of CPU time."""
    g, b = [v for r, _ in guarded for v in r], [v for r, _ in bare_ for v in r]
    g_rps, b_rps = len(g) / sum(g), len(b) / sum(b)
    pairs = list(zip(guarded, bare_, strict=True))
    paired = statistics.median(statistics.median(gr) / statistics.median(br) for (gr, _), (br, _) in pairs)
    cpu = statistics.median(gc / bc for (_, gc), (_, bc) in pairs)
    print(f"{name}: guarded {g_rps:.1f} req/s, p95 {p95(g) * 1000:.2f} ms, median {statistics.median(g) * 1000:.3f} ms"
          f" | bare {b_rps:.1f} req/s, p95 {p95(b) * 1000:.2f} ms, median {statistics.median(b) * 1000:.3f} ms")
    print(f"ratio {name} guarded/bare: time per request {b_rps / g_rps:.3f}x, p95 {p95(g) / p95(b):.3f}x, "
          f"median {statistics.median(g) / statistics.median(b):.3f}x, paired rounds' medians {paired:.3f}x, "
          f"CPU time per request (paired rounds) {cpu:.3f}x (aim <= 1.02x)")


def guard_stack(config: Any) -> tuple[Any, Any]:
    """The shipped middleware (as ``guards.install`` orders it) around a do-nothing app, and that app."""
    from starlette.middleware.cors import CORSMiddleware

    from engine.server.guards import HostGuard, OriginGuard
    from engine.server.host_names import policy_for
    from engine.server.incidents import IncidentMiddleware
    from engine.server.limits import MAX_BODY_BYTES, BodyLimit

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        return None

    app: Any = IncidentMiddleware(inner)
    app = BodyLimit(app, max_bytes=MAX_BODY_BYTES)
    app = OriginGuard(app, listed=frozenset(config.cors_allow_origins))
    if config.cors_allow_origins:
        app = CORSMiddleware(app, allow_origins=list(config.cors_allow_origins))
    return HostGuard(app, policy=policy_for(config)), inner


def pieces(service: Any, calls: int = 20000) -> None:
    """Each check alone, CPU time per call (steady figures where the end-to-end ones are noisy)."""
    import timeit

    from engine.generation.decode_guard import stoppable
    from engine.server import api_models as m
    from engine.server import limits

    guarded, inner = guard_stack(service.config)
    scopes = {method: {"type": "http", "method": method, "path": "/sdapi/v1/progress", "server": ("127.0.0.1", 7860),
                       "headers": [(b"host", b"127.0.0.1:7860"), (b"accept", b"*/*"), (b"content-type", b"application/json"),
                                   (b"content-length", b"90")], "client": ("127.0.0.1", 1)} for method in ("GET", "POST")}

    async def loop(app: Any, scope: Any) -> float:
        began = time.process_time()
        for _ in range(calls):
            await app(scope, None, None)
        return (time.process_time() - began) / calls

    for method, scope in scopes.items():
        cost = statistics.median(asyncio.run(loop(guarded, scope)) - asyncio.run(loop(inner, scope)) for _ in range(5))
        print(f"middleware (Host, Origin, body size, incidents), {method}: {cost * 1e6:.2f} us per request")
    req = m.Txt2ImgRequest.model_validate(json.loads(BODY))
    per = timeit.timeit(lambda: limits.check_generation(req), number=2000) / 2000
    print(f"request limits for the txt2img body: {per * 1e6:.1f} us per request")
    vae = service.runtime.model.pipe.vae

    class Quiet:
        def should_interrupt(self) -> bool:
            return False

        def should_skip(self) -> bool:
            return False

    def guard_once() -> None:
        with stoppable(vae, Quiet()):
            pass

    per = timeit.timeit(guard_once, number=2000) / 2000
    print(f"VAE decode guard, hooks on and off: {per * 1e6:.1f} us per decode (plus one flag read per decoder block)")


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
            results: dict[str, list[Round]] = {"guarded": [], "bare": []}
            for i in range(args.rounds):
                for side in (("guarded", "bare") if i % 2 == 0 else ("bare", "guarded")):
                    with bare() if side == "bare" else contextlib.nullcontext():
                        port = bare_srv.port if side == "bare" else guarded_srv.port
                        results[side].append(run_round(port, args.progress, args.images))
                print(f"round {i + 1}/{args.rounds} done", flush=True)
            pieces(engine.service)
    print(f"{args.rounds} rounds, {args.progress} /progress and {args.images} txt2img 64x64 (2 steps, tiny SD1) each, "
          "CPU, one engine, guarded and bare apps alternating")
    for kind, name in (("progress", "/sdapi/v1/progress"), ("txt2img", "txt2img 64x64")):
        report(name, [r[kind] for r in results["guarded"]], [r[kind] for r in results["bare"]])


if __name__ == "__main__":
    main()
