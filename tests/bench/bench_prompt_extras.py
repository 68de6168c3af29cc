"""Conditioning cost of a prompt with 3 textual-inversion embeddings and 2 prompt styles, against the
same prompt without them, measured side by side (alternating rounds).

    .venv/bin/python tests/bench/bench_prompt_extras.py [--rounds 30]

SD1.5's real text encoder (CLIP ViT-L/14: 12 layers, width 768, 123 M parameters) with random
weights and the real CLIP tokenizer, on the CPU. One round conditions a job as the engine does:
the styles applied to the prompt and the negative prompt (the styles file looked at, as
``prepare`` does), then both prompts encoded (``Conditioner``). The "with" prompt names three
embeddings of 8, 6 and 16 vectors and two styles; the "without" prompt is the same text with
neither. Both fit one 75-token chunk, so the encoder runs the same number of times on each side;
what differs is the name lookup, the token rows put in and the style text. A second line times
the text side alone (styles, parsing, tokenizing, lookup: no encoder), where the difference shows
without the encoder's noise. Also printed: the one-off cost of reading the three embedding files.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PROMPT = "1girl, solo, long hair, looking at viewer, smile, outdoors, cherry blossoms"
NEGATIVE = "lowres, bad anatomy, worst quality"
STYLES = ('name,prompt,negative_prompt\n'
          'quality,"masterpiece, best quality, {prompt}","jpeg artifacts"\n'
          'light,"soft lighting, depth of field","overexposed"\n')
EMBEDDINGS = {"EasyNegative": 8, "badhandv4": 6, "ng_deepnegative_v1_75t": 16}


def text_encoder() -> SimpleNamespace:
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel

    from engine.models.configs import config_dir, load_tokenizer

    folder = config_dir("sd1")
    torch.manual_seed(0)
    model = CLIPTextModel(CLIPTextConfig.from_pretrained(str(folder / "text_encoder"))).eval()
    return SimpleNamespace(tokenizer=load_tokenizer(folder), text_encoder=model, text_encoder_2=None,
                           _execution_device=torch.device("cpu"))


def library(folder: Path, pipe: Any) -> tuple[Any, float]:
    """The embeddings read through Maple's library from real files; returns (set, seconds to read)."""
    from engine.models.embedding_library import EmbeddingLibrary
    from engine.models.registry import ModelRegistry
    from installer.home import Home
    from tests.engine.tinyembeddings import random_vectors, write_embedding

    home = Home(folder / "home").ensure()
    for i, (name, count) in enumerate(EMBEDDINGS.items()):
        write_embedding(home.root / "embeddings", name, "safetensors" if i else "pt", random_vectors(count, 768, i))
    embeddings = EmbeddingLibrary(ModelRegistry(home))
    start = time.perf_counter()
    found = embeddings.for_model(pipe, "SD1.5 text encoder")
    return found, time.perf_counter() - start


def condition(pipe: Any, book: Any, embeddings: Any, prompt: str, negative: str, styles: list[str]) -> None:
    from engine.prompts.scheduled_embeds import Conditioner

    if styles:
        prompt, negative = book.apply(prompt, negative, styles)
    Conditioner(pipe, prompt, negative, 1, embeddings).for_steps(20)


def text_side(pipe: Any, book: Any, embeddings: Any, prompt: str, negative: str, styles: list[str]) -> None:
    """Everything but the encoder: styles applied, both prompts parsed, tokenized, names looked up."""
    from engine.prompts.conditioning import tokenize_chunks

    if styles:
        prompt, negative = book.apply(prompt, negative, styles)
    tokenize_chunks(pipe.tokenizer, prompt, embeddings)
    tokenize_chunks(pipe.tokenizer, negative, embeddings)


def alternate(sides: dict[str, Any], rounds: int, repeat: int = 1) -> dict[str, float]:
    """Median seconds per call of each side, the sides taking turns."""
    for fn in sides.values():
        fn()  # warm both
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(rounds):
        for name, fn in sides.items():
            start = time.perf_counter()
            for _ in range(repeat):
                fn()
            times[name].append((time.perf_counter() - start) / repeat)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    import torch

    from engine.prompts.styles import StyleBook

    torch.set_num_threads(2)
    pipe = text_encoder()
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad():
        found, first_read = library(Path(tmp), pipe)
        styles_file = Path(tmp) / "styles.csv"
        styles_file.write_text(STYLES, encoding="utf-8")
        book = StyleBook([styles_file], styles_file)
        names = ", ".join(EMBEDDINGS)
        plain = (PROMPT, NEGATIVE, [])
        extras = (PROMPT, f"{NEGATIVE}, {names}", ["quality", "light"])
        full = alternate({"without": lambda: condition(pipe, book, None, *plain),
                          "with": lambda: condition(pipe, book, found, *extras)}, args.rounds)
        text = alternate({"without": lambda: text_side(pipe, book, None, *plain),
                          "with": lambda: text_side(pipe, book, found, *extras)}, args.rounds, repeat=50)
    print(f"conditioning one job (positive + negative prompt), median of {args.rounds} alternating rounds")
    print(f"{'':34}{'without':>12}{'3 emb + 2 styles':>18}{'ratio':>9}")
    for label, got in (("encoded (SD1.5 text encoder, CPU)", full), ("text side only (no encoder)", text)):
        a, b = got["without"], got["with"]
        print(f"{label:34}{a * 1000:>9.2f} ms{b * 1000:>15.2f} ms{b / a:>8.2f}x")
    print(f"first use: reading and matching the 3 embedding files: {first_read * 1000:.1f} ms (once)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
