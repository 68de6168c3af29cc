"""Benchmark: the built-in shapes model against the noise demo it replaces, and its prompt adherence.

    .venv/bin/python tests/bench/bench_shapes_model.py [--rounds 8] [--adherence 200] [--sheet contact.png]

Two engine processes on this CPU, one per model (each alone in its home), answer the same 10-step
128x128 txt2img through the HTTP API, alternating. Aim: the built-in model <= 2 s per picture.
``--adherence N`` then asks the built-in model for N scenes it never saw and reports how often a
plain image analysis (tests/engine/shape_analysis.py) finds the prompt's colour, shape and place;
``--sheet`` writes the first 16 results as a contact sheet with their prompts.
"""

from __future__ import annotations

import argparse
import base64
import io
import tempfile
import time
from pathlib import Path
from typing import Any

from engine_bench import ROOT, EngineProc, summary, txt2img

BODY = {"width": 128, "height": 128, "steps": 10, "cfg_scale": 5.0, "sampler_name": "DPM++ 2M"}  # the page's defaults for it
PROMPT = "a red circle on a blue background, top left"


def homes(root: Path) -> tuple[Path, Path]:
    from engine.models.builtin import ensure_builtin_model
    from engine.models.demo import ensure_demo_model
    from installer.home import Home

    shapes, noise = Home(root / "shapes").ensure(), Home(root / "noise").ensure()
    ensure_builtin_model(shapes)
    ensure_demo_model(noise)
    return shapes.root, noise.root


def timed(url: str, prompt: str, seed: int) -> tuple[float, Any]:
    began = time.perf_counter()
    reply = txt2img(url, {**BODY, "prompt": prompt, "seed": seed})
    return time.perf_counter() - began, reply


def picture(reply: dict[str, Any]) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(reply["images"][0]))).convert("RGB")


def adherence(url: str, count: int, sheet: Path | None) -> None:
    from PIL import Image, ImageDraw

    from scripts.shapes.vocab import held_out_scenes
    from tests.engine.shape_analysis import look

    scenes = held_out_scenes(count)
    hits = {"colour": 0, "shape": 0, "place": 0}
    board = Image.new("RGB", (4 * 160, 4 * 170), "white")
    for i, scene in enumerate(scenes):
        image = picture(timed(url, scene.prompt(), 1000 + i)[1])
        seen = look(image)
        hits["colour"] += bool(seen and seen.colour == scene.colour)
        hits["shape"] += bool(seen and seen.shape == scene.shape)
        hits["place"] += bool(seen and (seen.row, seen.col) == (scene.row, scene.col))
        if i < 16:
            x, y = 160 * (i % 4), 170 * (i // 4)
            board.paste(image, (x + 16, y + 4))
            words = scene.prompt().removeprefix("a ").replace(" background", " bg")
            ImageDraw.Draw(board).text((x + 2, y + 136), words[:30] + "\n" + words[30:60], fill="black")
    print(f"adherence on {count} unseen prompts (128x128, 10 steps, DPM++ 2M, CFG 5): "
          + ", ".join(f"{k} {v / count:.1%}" for k, v in hits.items()), "(aim: colour >= 90%, shape >= 70%)")
    if sheet:
        board.save(sheet)
        print(f"contact sheet: {sheet}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--adherence", type=int, default=0)
    parser.add_argument("--sheet", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        shapes_root, noise_root = homes(Path(tmp))
        engines = {"built-in shapes model": EngineProc(shapes_root, "--device", "cpu"),
                   "noise demo": EngineProc(noise_root, "--device", "cpu")}
        times: dict[str, list[float]] = {name: [] for name in engines}
        try:
            for engine in engines.values():
                engine.bound.wait(300)
                timed(engine.url, PROMPT, 1)  # warm
            for i in range(args.rounds):
                for name, engine in engines.items():
                    times[name].append(timed(engine.url, PROMPT, 7 + i)[0])
            if args.adherence:
                adherence(engines["built-in shapes model"].url, args.adherence, args.sheet)
        finally:
            for engine in engines.values():
                engine.stop()
    print(f"txt2img through the HTTP API, {BODY['width']}x{BODY['height']}, {BODY['steps']} steps, CPU ({ROOT.name})")
    for name, values in times.items():
        print(summary(name, values))
    ours, theirs = (sorted(v)[len(v) // 2] for v in times.values())
    print(f"built-in / noise demo (medians): {ours / theirs:.2f}x; built-in median {ours:.2f} s (aim <= 2 s)")


if __name__ == "__main__":
    main()
