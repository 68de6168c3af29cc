"""generate() on a tiny SD1-shaped model: seeds, batches, progress, interrupt, skip, hires fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from engine.generation.generate import generate
from engine.generation.pipes import pipes_for
from engine.generation.samplers import make_scheduler
from engine.jobs import GenParams
from engine.prompts.embeds import encode_pair
from tests.engine.tinypipe import shared_model


class Control:
    """A JobControl that records steps and interrupts/skips at a chosen (batch, step)."""

    def __init__(self, interrupt_at: tuple[int, int] | None = None,
                 skip_at: tuple[int, int] | None = None) -> None:
        self.steps: list[tuple[int, int, int]] = []
        self.interrupt_at, self.skip_at = interrupt_at, skip_at
        self.interrupted = self.skipped = False
        self.skips_cleared = 0

    def on_step(self, image_index: int, step: int, total_steps: int, latents: Any) -> None:
        self.steps.append((image_index, step, total_steps))
        self.interrupted |= (image_index, step) == self.interrupt_at
        self.skipped |= (image_index, step) == self.skip_at

    def should_interrupt(self) -> bool:
        return self.interrupted

    def should_skip(self) -> bool:
        return self.skipped

    def clear_skip(self) -> None:
        self.skipped = False
        self.skips_cleared += 1


def run(control: Control | None = None, **changes: Any):
    base = {"prompt": "a cat", "negative_prompt": "ugly", "seed": 42, "steps": 4, "width": 32, "height": 32}
    return generate(shared_model(), GenParams(**{**base, **changes}), control or Control())


def pixels(image: Any) -> np.ndarray:
    return np.asarray(image).astype(np.int16)


def test_same_seed_same_image_other_seed_other_image() -> None:
    a, b, c = run().images[0], run().images[0], run(seed=43).images[0]
    assert np.array_equal(pixels(a), pixels(b))
    assert not np.array_equal(pixels(a), pixels(c))


def test_matches_a_direct_pipeline_call_with_cpu_noise() -> None:
    pipe = shared_model().pipe
    cond, uncond = encode_pair(pipe, "a cat", "ugly")
    pipe.scheduler = make_scheduler("Euler", "Automatic", pipes_for(shared_model()).base_config)
    direct = pipe(prompt_embeds=cond.embeds, negative_prompt_embeds=uncond.embeds, width=32, height=32,
                  num_inference_steps=4, guidance_scale=7.0,
                  generator=torch.Generator("cpu").manual_seed(42)).images[0]
    ours = run(sampler_name="Euler", randn_source="CPU").images[0]
    assert np.array_equal(pixels(direct), pixels(ours))


def test_random_seed_and_seed_plus_i_across_batches() -> None:
    result = run(seed=-1, batch_size=2, n_iter=2)
    first = result.seeds[0]
    assert result.seeds == [first, first + 1, first + 2, first + 3] and len(result.images) == 4
    assert f"Seed: {first + 3}," in result.infotexts[3]
    assert run(seed=-1).seeds != run(seed=-1).seeds
    alone = run(seed=first + 3).images[0]  # image 3 of the job is the image of seed + 3
    assert np.abs(pixels(alone) - pixels(result.images[3])).max() <= 2


def test_progress_reports_every_step_of_every_batch() -> None:
    control = Control()
    run(control, n_iter=2)
    assert control.steps == [(n, s, 4) for n in range(2) for s in range(1, 5)]


def test_interrupt_returns_what_exists() -> None:
    control = Control(interrupt_at=(0, 2))
    result = run(control, n_iter=3)
    assert result.interrupted and len(result.images) == 1
    assert control.steps[-1] == (0, 2, 4)


def test_skip_moves_on_to_the_next_batch() -> None:
    control = Control(skip_at=(0, 1))
    result = run(control, n_iter=2)
    assert not result.interrupted and len(result.images) == 2
    assert control.skips_cleared == 1
    assert [s for s in control.steps if s[0] == 1] == [(1, s, 4) for s in range(1, 5)]


def test_hires_fix_doubles_the_size_and_counts_both_passes() -> None:
    control = Control()
    result = run(control, enable_hr=True, hr_scale=2.0, hr_second_pass_steps=3, denoising_strength=0.6)
    assert result.images[0].size == (64, 64)
    assert control.steps[-1] == (0, 7, 7) and len({s for _, s, _ in control.steps}) == 7
    text = result.infotexts[0]
    assert "Size: 32x32" in text and "Denoising strength: 0.6" in text
    assert "Hires upscale: 2, Hires steps: 3, Hires upscaler: Latent" in text


@pytest.mark.parametrize("upscaler", ["Latent (nearest-exact)", "Lanczos"])
def test_hires_upscalers(upscaler: str) -> None:
    result = run(enable_hr=True, hr_scale=1.5, hr_upscaler=upscaler, denoising_strength=0.5)
    assert result.images[0].size == (48, 48)


def test_hires_interrupted_in_the_first_pass_returns_the_small_image() -> None:
    result = run(Control(interrupt_at=(0, 2)), enable_hr=True)
    assert result.interrupted and result.images[0].size == (32, 32)


def test_pipelines_and_schedulers_are_reused() -> None:
    run(mode="img2img", init_images=(pil(),), denoising_strength=0.5)
    pipes = pipes_for(shared_model())
    img2img, scheduler = pipes.img2img(), pipes.img2img().scheduler
    run(mode="img2img", init_images=(pil(),), denoising_strength=0.5)
    assert pipes_for(shared_model()) is pipes and pipes.img2img() is img2img
    assert pipes.img2img().scheduler is scheduler


def pil(color: str = "red", size: tuple[int, int] = (32, 32)) -> Any:
    from PIL import Image

    return Image.new("RGB", size, color)
