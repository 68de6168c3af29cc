"""Every sampler x schedule type steps as A1111 steps.

The reference is written here from the formulas of k-diffusion (the library A1111's samplers come
from) and of A1111's own DDIM / PLMS / UniPC, on Stable Diffusion 1.5's betas: the schedule types'
noise levels, and whole sampling runs of each sampler on an analytic denoiser (the exact denoiser
of Gaussian data), with the same noise. Maple's schedulers must visit the same timesteps and end
at the same latents, at several step counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

from engine.generation.rng import NoiseStream
from engine.generation.samplers import make_scheduler, prepare_scheduler
from tests.engine.tinypipe import SD15_SCHEDULER

pytestmark = pytest.mark.filterwarnings("ignore:Should have:UserWarning")  # torchsde's float32 bounds

STEP_COUNTS = (4, 7, 20)
SCHEDULE_LABELS = ("Uniform", "Karras", "Exponential", "Polyexponential", "SGM Uniform", "Align Your Steps",
                   "Simple", "Normal", "DDIM", "Beta")

# --- SD1.5's noise table, as LDM computes it: float64 betas, alphas_cumprod stored as float32 -------
BETAS = np.linspace(math.sqrt(0.00085), math.sqrt(0.012), 1000, dtype=np.float64) ** 2
ALPHAS_CUMPROD = np.cumprod(1.0 - BETAS).astype(np.float32)
SIGMAS = np.sqrt((1 - ALPHAS_CUMPROD) / ALPHAS_CUMPROD).astype(np.float64)
LOG_SIGMAS = np.log(SIGMAS)
SIGMA_MIN, SIGMA_MAX = float(SIGMAS[0]), float(SIGMAS[-1])


def t_to_sigma(t: float) -> float:
    low, high = math.floor(t), math.ceil(t)
    w = t - low
    return math.exp((1 - w) * LOG_SIGMAS[low] + w * LOG_SIGMAS[high])


def sigma_to_t(sigma: float) -> float:
    log_sigma = math.log(sigma)
    low = int(np.clip(np.sum(log_sigma >= LOG_SIGMAS) - 1, 0, 998))
    w = (LOG_SIGMAS[low] - log_sigma) / (LOG_SIGMAS[low] - LOG_SIGMAS[low + 1])
    return (1 - min(max(w, 0.0), 1.0)) * low + min(max(w, 0.0), 1.0) * (low + 1)


# --- the schedule types (k-diffusion's get_sigmas_* and A1111's schedulers module) --------------
def ref_uniform(n: int) -> list[float]:
    return [t_to_sigma(999 - i * 999 / (n - 1)) if n > 1 else SIGMA_MAX for i in range(n)] + [0.0]


def ref_karras(n: int, rho: float = 7.0) -> list[float]:
    lo, hi = SIGMA_MIN ** (1 / rho), SIGMA_MAX ** (1 / rho)
    return [(hi + i / (n - 1) * (lo - hi)) ** rho for i in range(n)] + [0.0]


def ref_exponential(n: int) -> list[float]:
    lo, hi = math.log(SIGMA_MIN), math.log(SIGMA_MAX)
    return [math.exp(hi + i / (n - 1) * (lo - hi)) for i in range(n)] + [0.0]


def ref_polyexponential(n: int, rho: float = 1.0) -> list[float]:
    lo, hi = math.log(SIGMA_MIN), math.log(SIGMA_MAX)
    return [math.exp((1 - i / (n - 1)) ** rho * (hi - lo) + lo) for i in range(n)] + [0.0]


def ref_sgm_uniform(n: int) -> list[float]:
    start, end = sigma_to_t(SIGMA_MAX), sigma_to_t(SIGMA_MIN)
    return [t_to_sigma(start + i * (end - start) / n) for i in range(n)] + [0.0]


def ref_normal(n: int) -> list[float]:
    start, end = sigma_to_t(SIGMA_MAX), sigma_to_t(SIGMA_MIN)
    return [t_to_sigma(start + i * (end - start) / (n - 1)) for i in range(n)] + [0.0]


def ref_simple(n: int) -> list[float]:
    return [float(SIGMAS[-(1 + int(i * 1000 / n))]) for i in range(n)] + [0.0]


def ref_ddim_schedule(n: int) -> list[float]:
    stride = max(1000 // n, 1)
    return [float(SIGMAS[i]) for i in range(1, 1000, stride)][::-1] + [0.0]


def ref_align_your_steps(n: int) -> list[float]:
    table = [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029]
    if n == len(table):
        return table + [0.0]
    logs = np.log(table[::-1])
    return list(np.exp(np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(table)), logs))[::-1]) + [0.0]


def ref_beta(n: int) -> list[float]:
    from scipy import stats

    return [SIGMA_MIN + stats.beta.ppf(1 - i / (n - 1), 0.6, 0.6) * (SIGMA_MAX - SIGMA_MIN) for i in range(n)] + [0.0]


REF_SCHEDULES: dict[str, Callable[[int], list[float]]] = {
    "Uniform": ref_uniform, "Karras": ref_karras, "Exponential": ref_exponential,
    "Polyexponential": ref_polyexponential, "SGM Uniform": ref_sgm_uniform, "Align Your Steps": ref_align_your_steps,
    "Simple": ref_simple, "Normal": ref_normal, "DDIM": ref_ddim_schedule, "Beta": ref_beta,
}


def ref_levels(schedule: str, n: int, discard_penultimate: bool = False) -> list[float]:
    if not discard_penultimate:
        return REF_SCHEDULES[schedule](n)
    longer = REF_SCHEDULES[schedule](n + 1)
    return longer[:-2] + longer[-1:]


# --- an analytic model: the exact denoiser of data ~ N(MU, S^2), asked as A1111 asks ------------
MU, S2 = 0.3, 0.25


class Model:
    def __init__(self) -> None:
        self.calls: list[float] = []  # the timestep of each model evaluation

    def denoise(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        self.calls.append(sigma_to_t(sigma) if sigma > 0 else 0.0)
        return (S2 * x + sigma * sigma * MU) / (S2 + sigma * sigma)

    def eps_at(self, x_vp: torch.Tensor, t: float) -> torch.Tensor:
        """What an epsilon UNet answers for input ``x_vp`` at timestep ``t`` (diffusers' side)."""
        self.calls.append(float(t))
        sigma = t_to_sigma(float(t))
        x = x_vp.double() * math.sqrt(sigma * sigma + 1)
        denoised = (S2 * x + sigma * sigma * MU) / (S2 + sigma * sigma)
        return ((x - denoised) / sigma).float()


SHAPE = (1, 4, 6, 6)
SEED = 1234


def cpu_draws(seed: int = SEED) -> Callable[[], torch.Tensor]:
    """A1111's CPU noise for one image: its first draw, then the next ones of the same generator."""
    generator = torch.Generator("cpu").manual_seed(seed)
    return lambda: torch.randn(SHAPE[1:], generator=generator).unsqueeze(0).double()


def brownian(x: torch.Tensor, levels: list[float]) -> Callable[[float, float], torch.Tensor]:
    from diffusers.schedulers.scheduling_dpmsolver_sde import BrownianTreeNoiseSampler

    positive = [s for s in levels if s > 0]
    tree = BrownianTreeNoiseSampler(x.float(), torch.tensor(min(positive)), torch.tensor(max(positive)), SEED)
    return lambda a, b: tree(torch.tensor(a), torch.tensor(b)).double()


def to_d(x: torch.Tensor, sigma: float, denoised: torch.Tensor) -> torch.Tensor:
    return (x - denoised) / sigma


def ancestral(sigma: float, following: float) -> tuple[float, float]:
    up = min(following, math.sqrt(following**2 * (sigma**2 - following**2) / sigma**2))
    return math.sqrt(following**2 - up**2), up


# --- k-diffusion's samplers -----------------------------------------------------------------------
def k_euler(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    for a, b in zip(s[:-1], s[1:], strict=True):
        x = x + to_d(x, a, m.denoise(x, a)) * (b - a)
    return x


def k_euler_ancestral(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    for a, b in zip(s[:-1], s[1:], strict=True):
        down, up = ancestral(a, b)
        x = x + to_d(x, a, m.denoise(x, a)) * (down - a)
        if b > 0:
            x = x + noise() * up
    return x


def k_heun(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    for a, b in zip(s[:-1], s[1:], strict=True):
        d = to_d(x, a, m.denoise(x, a))
        if b == 0:
            x = x + d * (b - a)
        else:
            x2 = x + d * (b - a)
            x = x + (d + to_d(x2, b, m.denoise(x2, b))) / 2 * (b - a)
    return x


def k_dpm2(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    for a, b in zip(s[:-1], s[1:], strict=True):
        d = to_d(x, a, m.denoise(x, a))
        if b == 0:
            x = x + d * (b - a)
        else:
            mid = math.exp((math.log(a) + math.log(b)) / 2)
            x2 = x + d * (mid - a)
            x = x + to_d(x2, mid, m.denoise(x2, mid)) * (b - a)
    return x


def k_dpm2_ancestral(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    for a, b in zip(s[:-1], s[1:], strict=True):
        d = to_d(x, a, m.denoise(x, a))
        down, up = ancestral(a, b)
        if down == 0:
            x = x + d * (down - a)
        else:
            mid = math.exp((math.log(a) + math.log(down)) / 2)
            x2 = x + d * (mid - a)
            x = x + to_d(x2, mid, m.denoise(x2, mid)) * (down - a)
            x = x + noise() * up
    return x


def k_lms(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    from scipy import integrate

    def coefficient(order: int, i: int, j: int) -> float:
        def lagrange(tau: float) -> float:
            prod = 1.0
            for k in range(order):
                if k != j:
                    prod *= (tau - s[i - k]) / (s[i - j] - s[i - k])
            return prod

        return float(integrate.quad(lagrange, s[i], s[i + 1], epsrel=1e-4)[0])

    ds: list[torch.Tensor] = []
    for i in range(len(s) - 1):
        ds = [*ds, to_d(x, s[i], m.denoise(x, s[i]))][-4:]
        order = min(i + 1, 4)
        x = x + sum(coefficient(order, i, j) * d for j, d in enumerate(reversed(ds)))
    return x


def k_dpmpp_2m(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    old = None
    for i in range(len(s) - 1):
        denoised = m.denoise(x, s[i])
        if s[i + 1] == 0:
            x = denoised
        else:
            h = math.log(s[i]) - math.log(s[i + 1])
            if old is not None:
                r = (math.log(s[i - 1]) - math.log(s[i])) / h
                denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old
            else:
                denoised_d = denoised
            x = (s[i + 1] / s[i]) * x - math.expm1(-h) * denoised_d
        old = denoised
    return x


def k_dpmpp_2m_sde(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    tree = brownian(x, s)
    old, h_last = None, 0.0
    for i in range(len(s) - 1):
        denoised = m.denoise(x, s[i])
        if s[i + 1] == 0:
            x = denoised
        else:
            h = math.log(s[i]) - math.log(s[i + 1])
            x = s[i + 1] / s[i] * math.exp(-h) * x + -math.expm1(-2 * h) * denoised
            if old is not None:
                x = x + 0.5 * -math.expm1(-2 * h) * (h / h_last) * (denoised - old)
            x = x + tree(s[i], s[i + 1]) * s[i + 1] * math.sqrt(-math.expm1(-2 * h))
            h_last = h
        old = denoised
    return x


def k_dpmpp_sde(m: Model, x: torch.Tensor, s: list[float], noise: Callable[[], torch.Tensor]) -> torch.Tensor:
    tree = brownian(x, s)
    for i in range(len(s) - 1):
        denoised = m.denoise(x, s[i])
        if s[i + 1] == 0:
            x = x + to_d(x, s[i], denoised) * (s[i + 1] - s[i])
            continue
        t, t_next = -math.log(s[i]), -math.log(s[i + 1])
        mid = t + (t_next - t) / 2
        down, up = ancestral(s[i], math.exp(-mid))
        x2 = (down / s[i]) * x - math.expm1(t + math.log(down)) * denoised
        x2 = x2 + tree(s[i], math.exp(-mid)) * up
        denoised2 = m.denoise(x2, math.exp(-mid))
        down, up = ancestral(s[i], s[i + 1])
        x = (down / s[i]) * x - math.expm1(t + math.log(down)) * denoised2  # r = 1/2: all weight on it
        x = x + tree(s[i], s[i + 1]) * up
    return x


K_SAMPLERS: dict[str, tuple[Callable[..., torch.Tensor], bool]] = {  # name -> (reference, drops penultimate)
    "Euler": (k_euler, False), "Euler a": (k_euler_ancestral, False), "Heun": (k_heun, False),
    "DPM2": (k_dpm2, True), "DPM2 a": (k_dpm2_ancestral, True), "LMS": (k_lms, False),
    "DPM++ 2M": (k_dpmpp_2m, False), "DPM++ 2M SDE": (k_dpmpp_2m_sde, False), "DPM++ SDE": (k_dpmpp_sde, False),
}


def run_maple(name: str, schedule: str, steps: int, model: Model) -> torch.Tensor:
    """diffusers' denoising loop with Maple's scheduler, as the pipelines run it."""
    scheduler = make_scheduler(name, schedule, SD15_SCHEDULER)
    stream = NoiseStream([SEED], "CPU")
    scheduler.set_timesteps(steps)
    prepare_scheduler(scheduler, [SEED], steps, stream)
    x = stream.first(SHAPE) * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        eps = model.eps_at(scheduler.scale_model_input(x, t), float(t))
        x = scheduler.step(eps, t, x).prev_sample
    return x.double()


@pytest.mark.parametrize("steps", STEP_COUNTS)
@pytest.mark.parametrize("schedule", SCHEDULE_LABELS)
@pytest.mark.parametrize("name", list(K_SAMPLERS))
def test_k_diffusion_samplers_step_as_a1111(name: str, schedule: str, steps: int) -> None:
    reference, discard = K_SAMPLERS[name]
    levels = ref_levels(schedule, steps, discard)
    draws = cpu_draws()
    ours, theirs = Model(), Model()
    expected = reference(theirs, draws() * levels[0], levels, draws)
    got = run_maple(name, schedule, steps, ours)
    assert ours.calls == pytest.approx(theirs.calls, rel=2e-5, abs=2e-3)
    # Brownian trees answer float32 queries: the SDE samplers agree to 1e-3, the others to 2e-4
    tolerance = 1e-3 if "SDE" in name else 2e-4
    assert got.numpy() == pytest.approx(expected.numpy(), rel=tolerance, abs=tolerance)


@pytest.mark.parametrize("name", ["DPM++ 2M", "DPM++ 2M SDE"])
def test_dpmpp_2m_uniform_visits_a1111s_timesteps(name: str) -> None:
    scheduler = make_scheduler(name, "Uniform", SD15_SCHEDULER)
    scheduler.set_timesteps(4)
    assert scheduler.timesteps.tolist() == pytest.approx([999, 666, 333, 0])


# --- A1111's timestep samplers --------------------------------------------------------------------
def ddim_ts(n: int) -> list[int]:
    return [min(t + 1, 999) for t in range(0, 1000, 1000 // n)]


def a1111_ddim(m: Model, x: torch.Tensor, n: int, eta: float = 0.0,
               noise: Callable[[], torch.Tensor] | None = None) -> torch.Tensor:
    ts = ddim_ts(n)
    a = [float(ALPHAS_CUMPROD[t]) for t in ts]
    prev = [float(ALPHAS_CUMPROD[0])] + a[:-1]
    for index in range(len(ts) - 1, 0, -1):
        e = m.eps_at(x.float(), ts[index]).double()
        sigma = eta * math.sqrt((1 - prev[index]) / (1 - a[index]) * (1 - a[index] / prev[index]))
        x0 = (x - math.sqrt(1 - a[index]) * e) / math.sqrt(a[index])
        x = math.sqrt(prev[index]) * x0 + math.sqrt(1 - prev[index] - sigma**2) * e
        if sigma and noise is not None:
            x = x + sigma * noise()
    return x


@pytest.mark.parametrize("steps", (4, 20))
def test_ddim_with_eta_draws_its_noise_as_a1111(steps: int) -> None:
    draws = cpu_draws()
    start = draws()
    expected = a1111_ddim(Model(), start.clone(), steps, 0.7, draws)
    scheduler = make_scheduler("DDIM", "Automatic", SD15_SCHEDULER)
    scheduler.set_timesteps(steps)
    stream = NoiseStream([SEED], "CPU")
    prepare_scheduler(scheduler, [SEED], steps, stream)
    x = stream.first(SHAPE)
    model = Model()
    for t in scheduler.timesteps:
        x = scheduler.step(model.eps_at(x, float(t)), t, x, eta=0.7).prev_sample
    assert x.double().numpy() == pytest.approx(expected.numpy(), rel=1e-4, abs=1e-4)


def a1111_plms(m: Model, x: torch.Tensor, n: int) -> torch.Tensor:
    ts = ddim_ts(n)
    a = [float(ALPHAS_CUMPROD[t]) for t in ts]
    prev = [float(ALPHAS_CUMPROD[0])] + a[:-1]

    def move(x: torch.Tensor, e: torch.Tensor, i: int) -> torch.Tensor:
        x0 = (x - math.sqrt(1 - a[i]) * e) / math.sqrt(a[i])
        return math.sqrt(prev[i]) * x0 + math.sqrt(1 - prev[i]) * e

    old: list[torch.Tensor] = []
    for index in range(len(ts) - 1, 0, -1):
        e = m.eps_at(x.float(), ts[index]).double()
        if not old:
            e_next = m.eps_at(move(x, e, index).float(), ts[max(index - 1, 0)]).double()
            prime = (e + e_next) / 2
        elif len(old) == 1:
            prime = (3 * e - old[-1]) / 2
        elif len(old) == 2:
            prime = (23 * e - 16 * old[-1] + 5 * old[-2]) / 12
        else:
            prime = (55 * e - 59 * old[-1] + 37 * old[-2] - 9 * old[-3]) / 24
        x = move(x, prime, index)
        old = [*old, e][-3:]
    return x


@pytest.mark.parametrize("steps", (*STEP_COUNTS, 9, 30))
@pytest.mark.parametrize("name", ["DDIM", "PLMS"])
def test_ddim_and_plms_step_as_a1111(name: str, steps: int) -> None:
    start = cpu_draws()()
    ours, theirs = Model(), Model()
    expected = (a1111_ddim if name == "DDIM" else a1111_plms)(theirs, start.clone(), steps)
    scheduler = make_scheduler(name, "Automatic", SD15_SCHEDULER)
    scheduler.set_timesteps(steps)
    x = start.float() * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        x = scheduler.step(ours.eps_at(scheduler.scale_model_input(x, t), float(t)), t, x).prev_sample
    assert ours.calls == theirs.calls
    assert x.double().numpy() == pytest.approx(expected.numpy(), rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("steps", STEP_COUNTS)
def test_unipc_is_a1111s_bh1_order_3_time_uniform(steps: int) -> None:
    scheduler = make_scheduler("UniPC", "Karras", SD15_SCHEDULER)  # A1111's UniPC has no schedule types
    assert scheduler.config.solver_type == "bh1" and scheduler.config.solver_order == 3
    assert scheduler.config.predict_x0 and scheduler.config.lower_order_final
    scheduler.set_timesteps(steps)
    times = [999 - i * 999 / steps for i in range(steps + 1)]  # t_input of A1111's time-uniform steps
    assert scheduler.timesteps.tolist() == pytest.approx(times[:-1], abs=1e-3)
    log_alpha = 0.5 * np.log(ALPHAS_CUMPROD.astype(np.float64))
    alphas = np.exp(np.interp(times, np.arange(1000), log_alpha))
    sigmas = np.sqrt(1 - alphas**2) / alphas  # the last level is the model's lowest, not 0
    assert scheduler.sigmas.numpy() == pytest.approx(sigmas, rel=1e-5)


def test_automatic_means_each_samplers_own_default() -> None:
    for name, schedule in (("DPM++ 2M", "Karras"), ("DPM2", "Karras"), ("DPM2 a", "Karras"),
                           ("DPM++ 2M SDE", "Exponential"), ("Euler a", "Uniform")):
        automatic = make_scheduler(name, "Automatic", SD15_SCHEDULER)
        chosen = make_scheduler(name, schedule, SD15_SCHEDULER)
        automatic.set_timesteps(9)
        chosen.set_timesteps(9)
        assert automatic.sigmas.tolist() == chosen.sigmas.tolist(), name
