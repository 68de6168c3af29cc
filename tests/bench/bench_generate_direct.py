"""generate() against a direct diffusers pipeline call on the same tiny model, alternating.

Run: .venv/bin/python tests/bench/bench_generate_direct.py
Both sides make the same 64x64 image in 10 Euler steps (CFG 7, CPU noise from one seed); the
engine side also parses the prompt, builds A1111-weighted embeddings, reports every step to a
JobControl and writes the infotext. Prints the medians and the ratio (aim: at most 1.10x).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.engine_bench import NullControl, alternate, print_side_by_side  # noqa: E402


def main(rounds: int = 15) -> None:
    import torch

    from engine.generation.generate import generate
    from engine.generation.pipes import pipes_for
    from engine.generation.samplers import make_scheduler
    from engine.jobs import GenParams
    from tests.engine.tinypipe import shared_model

    model = shared_model()
    pipe = model.pipe
    params = GenParams(prompt="a photo of a cat", negative_prompt="blurry", seed=1, sampler_name="Euler",
                       steps=10, cfg_scale=7.0, width=64, height=64)
    scheduler = make_scheduler("Euler", "Automatic", pipes_for(model).base_config)

    def direct() -> None:
        pipe.scheduler = scheduler
        pipe(prompt=params.prompt, negative_prompt=params.negative_prompt, width=64, height=64,
             num_inference_steps=10, guidance_scale=7.0, generator=torch.Generator("cpu").manual_seed(1))

    def engine() -> None:
        generate(model, params, NullControl())

    times = alternate({"direct": direct, "engine": engine}, rounds)
    print_side_by_side(("direct diffusers call", times["direct"]), ("engine generate()", times["engine"]),
                       "engine/direct")


if __name__ == "__main__":
    main()
