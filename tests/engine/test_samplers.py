"""Every A1111 sampler runs; Karras/Exponential sigmas equal A1111's formulas worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.generation.generate import generate
from engine.generation.samplers import (
    SAMPLERS,
    SCHEDULE_TYPES,
    UnknownSamplerError,
    find_sampler,
    find_schedule_type,
    make_scheduler,
    split_legacy_name,
)
from engine.jobs import GenParams
from tests.engine.test_generate import Control
from tests.engine.tinypipe import SD15_SCHEDULER, shared_model

NAMES = ["Euler a", "Euler", "Heun", "DPM2", "DPM2 a", "DPM++ 2M", "DPM++ 2M SDE", "DPM++ SDE",
         "DDIM", "UniPC", "PLMS", "LMS", "LCM"]


def a1111_model_sigmas() -> np.ndarray:
    """sigma(t) for t = 0..999 of SD's scaled-linear schedule, as LDM/k-diffusion compute them."""
    betas = np.linspace(math.sqrt(0.00085), math.sqrt(0.012), 1000, dtype=np.float64) ** 2
    alphas_cumprod = np.cumprod(1.0 - betas)
    return np.sqrt((1 - alphas_cumprod) / alphas_cumprod)


def a1111_karras(n: int, rho: float = 7.0) -> list[float]:
    sigmas = a1111_model_sigmas()
    lo, hi = sigmas[0] ** (1 / rho), sigmas[-1] ** (1 / rho)
    return [(hi + i / (n - 1) * (lo - hi)) ** rho for i in range(n)] + [0.0]


def a1111_exponential(n: int) -> list[float]:
    sigmas = a1111_model_sigmas()
    lo, hi = math.log(sigmas[0]), math.log(sigmas[-1])
    return [math.exp(hi + i / (n - 1) * (lo - hi)) for i in range(n)] + [0.0]


def test_the_list_has_a1111s_names_and_the_api_shapes() -> None:
    assert sorted(s.name for s in SAMPLERS) == sorted(NAMES)
    assert SAMPLERS[0].as_api() == {"name": "DPM++ 2M", "aliases": ["k_dpmpp_2m"], "options": {"scheduler": "karras"}}
    assert [t.label for t in SCHEDULE_TYPES] == ["Automatic", "Uniform", "Karras", "Exponential", "Polyexponential",
                                                 "SGM Uniform", "Align Your Steps", "Simple", "Normal", "DDIM", "Beta"]
    assert SCHEDULE_TYPES[2].as_api() == {"name": "karras", "label": "Karras", "aliases": None, "default_rho": 7.0,
                                          "need_inner_model": False}
    assert SCHEDULE_TYPES[5].as_api()["aliases"] == ["SGMUniform"]
    assert find_schedule_type("sgmuniform").label == "SGM Uniform"


def test_names_aliases_and_errors() -> None:
    assert find_sampler("k_euler_a").name == "Euler a"
    assert find_sampler("dpm++ 2m").name == "DPM++ 2M"
    assert find_schedule_type("karras").label == find_schedule_type("Karras").label == "Karras"
    assert find_schedule_type("").label == "Automatic"
    with pytest.raises(UnknownSamplerError, match="Euler a"):
        find_sampler("Euler z")
    with pytest.raises(UnknownSamplerError, match="Exponential"):
        find_schedule_type("Polyexp")
    assert split_legacy_name("DPM++ 2M Karras") == ("DPM++ 2M", "Karras")
    assert split_legacy_name("Euler a") == ("Euler a", "Automatic")


@pytest.mark.parametrize("sampler", ["Euler", "Euler a", "DPM++ 2M", "Heun", "LMS"])
def test_karras_sigmas_equal_a1111s(sampler: str) -> None:
    scheduler = make_scheduler(sampler, "Karras", SD15_SCHEDULER)
    scheduler.set_timesteps(20)
    sigmas = scheduler.sigmas.numpy().astype(np.float64)
    if sampler == "Heun":  # second-order: every inner sigma is used twice
        sigmas = np.concatenate([sigmas[:1], sigmas[1:-1:2], sigmas[-1:]])
    assert sigmas == pytest.approx(a1111_karras(20), rel=1e-4, abs=1e-6)


def test_exponential_sigmas_equal_a1111s() -> None:
    for sampler in ("Euler", "Euler a"):
        scheduler = make_scheduler(sampler, "Exponential", SD15_SCHEDULER)
        scheduler.set_timesteps(15)
        assert scheduler.sigmas.numpy() == pytest.approx(a1111_exponential(15), rel=1e-4, abs=1e-6)


def test_automatic_uses_linspace_so_the_first_sigma_is_sigma_max() -> None:
    scheduler = make_scheduler("Euler", "Automatic", SD15_SCHEDULER)
    scheduler.set_timesteps(20)
    assert float(scheduler.sigmas[0]) == pytest.approx(a1111_model_sigmas()[-1], rel=1e-4)
    assert float(scheduler.timesteps[0]) == pytest.approx(999.0)


def test_automatic_means_each_samplers_own_default() -> None:
    assert make_scheduler("DPM++ 2M", "Automatic", SD15_SCHEDULER).a1111_schedule == "karras"
    sde = make_scheduler("DPM++ 2M SDE", "Automatic", SD15_SCHEDULER)
    assert sde.a1111_schedule == "exponential" and sde.config.algorithm_type == "sde-dpmsolver++"
    assert make_scheduler("DPM++ 2M", "Uniform", SD15_SCHEDULER).a1111_schedule == "uniform"
    assert make_scheduler("DDIM", "Karras", SD15_SCHEDULER).a1111_stepping == "ddim"


def test_schedulers_are_built_once_per_config() -> None:
    first = make_scheduler("UniPC", "Karras", SD15_SCHEDULER)
    assert make_scheduler("unipc", "karras", SD15_SCHEDULER) is first


@pytest.mark.parametrize("schedule", [t.label for t in SCHEDULE_TYPES])
@pytest.mark.parametrize("sampler", NAMES)
def test_every_sampler_runs(sampler: str, schedule: str) -> None:
    params = GenParams(prompt="a cat", seed=3, sampler_name=sampler, scheduler=schedule,
                       steps=3, width=16, height=16)
    result = generate(shared_model(), params, Control())
    pixels = np.asarray(result.images[0])
    assert pixels.shape == (16, 16, 3) and pixels.std() > 0
    assert f"Sampler: {sampler}, Schedule type: {schedule}," in result.infotexts[0]


def test_lcm_runs_more_than_its_50_distilled_steps() -> None:
    params = GenParams(prompt="a cat", seed=1, sampler_name="LCM", steps=60, width=16, height=16, cfg_scale=1)
    control = Control()
    generate(shared_model(), params, control)
    assert control.steps[-1] == (0, 60, 60)


def test_sde_sampler_is_reproducible() -> None:
    params = GenParams(prompt="a cat", seed=11, sampler_name="DPM++ SDE", steps=3, width=16, height=16)
    first = generate(shared_model(), params, Control()).images[0]
    second = generate(shared_model(), params, Control()).images[0]
    assert np.array_equal(np.asarray(first), np.asarray(second))


def test_sde_noise_follows_each_images_seed_in_a_batch() -> None:
    base = {"prompt": "a cat", "sampler_name": "DPM++ SDE", "steps": 3, "width": 16, "height": 16}
    batch = generate(shared_model(), GenParams(seed=20, batch_size=2, **base), Control())
    alone = generate(shared_model(), GenParams(seed=21, **base), Control())
    diff = np.abs(np.asarray(batch.images[1]).astype(int) - np.asarray(alone.images[0]).astype(int))
    assert diff.max() <= 2
