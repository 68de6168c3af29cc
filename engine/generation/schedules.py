"""The noise levels A1111 steps through: its schedule types and its timestep samplers' timesteps.

``ModelSchedule`` is the model's own table of noise levels as A1111 builds it from the checkpoint's
betas (in double precision, stored as float32, like the original LDM code), with the zero-terminal-
SNR rescale A1111 applies to such models. ``sigmas(kind, n, schedule)`` gives the ``n`` noise levels
(highest first, followed by 0) of each schedule type A1111 offers for its k-diffusion samplers;
``ddim_timesteps`` and ``unipc_times`` are what its DDIM/PLMS and UniPC samplers use instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

ZERO_SNR_LAST = 4.8973451890853435e-08  # A1111's final alphas_cumprod for zero-terminal-SNR models

# Align Your Steps (NVIDIA's published 10-step schedules), as A1111 ships them
_AYS = {
    False: (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029),
    True: (14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029),
}
BETA_ALPHA = BETA_BETA = 0.6  # A1111's defaults for the Beta schedule


@dataclass(frozen=True)
class ModelSchedule:
    """The model's 1000 noise levels (sigma = sqrt((1 - a) / a) of each alphas_cumprod ``a``)."""

    alphas_cumprod: np.ndarray  # float32 values, ascending noise
    sdxl: bool = False

    @property
    def sigmas(self) -> np.ndarray:
        a = self.alphas_cumprod.astype(np.float32)
        return np.sqrt((1 - a) / a).astype(np.float64)

    @property
    def sigma_min(self) -> float:
        return float(self.sigmas[0])

    @property
    def sigma_max(self) -> float:
        return float(self.sigmas[-1])

    def t_to_sigma(self, t: Any) -> np.ndarray:
        """Continuous timesteps -> sigma, interpolating log sigma linearly (k-diffusion's rule)."""
        log_sigmas = np.log(self.sigmas)
        return np.exp(np.interp(np.asarray(t, dtype=np.float64), np.arange(len(log_sigmas)), log_sigmas))

    def sigma_to_t(self, sigma: Any) -> np.ndarray:
        """The inverse: where each sigma falls in the table, as a continuous timestep."""
        log_sigmas = np.log(self.sigmas)
        return np.interp(np.log(np.asarray(sigma, dtype=np.float64)), log_sigmas, np.arange(len(log_sigmas)))


def model_schedule(config: Mapping[str, Any], sdxl: bool = False) -> ModelSchedule:
    """The model's table from its scheduler config (``beta_*``, ``rescale_betas_zero_snr``)."""
    steps = int(config.get("num_train_timesteps", 1000))
    start, end = float(config.get("beta_start", 0.00085)), float(config.get("beta_end", 0.012))
    kind = config.get("beta_schedule", "scaled_linear")
    trained = config.get("trained_betas")
    if trained is not None:
        betas = np.asarray(trained, dtype=np.float64)
    elif kind == "linear":
        betas = np.linspace(start, end, steps, dtype=np.float64)
    elif kind == "scaled_linear":
        betas = np.linspace(math.sqrt(start), math.sqrt(end), steps, dtype=np.float64) ** 2
    else:
        raise ValueError(f"Maple has no A1111 schedule for beta_schedule {kind!r}")
    alphas_cumprod = np.cumprod(1.0 - betas)
    if config.get("rescale_betas_zero_snr"):
        alphas_cumprod = rescale_zero_terminal_snr(alphas_cumprod)
    return ModelSchedule(alphas_cumprod.astype(np.float32), sdxl)


def rescale_zero_terminal_snr(alphas_cumprod: np.ndarray) -> np.ndarray:
    """Shift and scale sqrt(alphas_cumprod) so the last step is pure noise (Lin et al. 2023),
    then keep the last value just above zero as A1111 does, so its sigma stays finite (~4500)."""
    root = np.sqrt(alphas_cumprod)
    first, last = root[0], root[-1]
    root = (root - last) * first / (first - last)
    rescaled = root**2
    rescaled[-1] = ZERO_SNR_LAST
    return rescaled


def _zero(values: np.ndarray) -> np.ndarray:
    return np.append(np.asarray(values, dtype=np.float64), 0.0)


def uniform(n: int, m: ModelSchedule) -> np.ndarray:
    return _zero(m.t_to_sigma(np.linspace(len(m.sigmas) - 1, 0, n)))


def karras(n: int, m: ModelSchedule, rho: float = 7.0) -> np.ndarray:
    ramp = np.linspace(0, 1, n)
    low, high = m.sigma_min ** (1 / rho), m.sigma_max ** (1 / rho)
    return _zero((high + ramp * (low - high)) ** rho)


def exponential(n: int, m: ModelSchedule) -> np.ndarray:
    return _zero(np.exp(np.linspace(math.log(m.sigma_max), math.log(m.sigma_min), n)))


def polyexponential(n: int, m: ModelSchedule, rho: float = 1.0) -> np.ndarray:
    ramp = np.linspace(1, 0, n) ** rho
    low = math.log(m.sigma_min)
    return _zero(np.exp(ramp * (math.log(m.sigma_max) - low) + low))


def sgm_uniform(n: int, m: ModelSchedule) -> np.ndarray:
    start, end = m.sigma_to_t(m.sigma_max), m.sigma_to_t(m.sigma_min)
    return _zero(m.t_to_sigma(np.linspace(start, end, n + 1)[:-1]))


def simple(n: int, m: ModelSchedule) -> np.ndarray:
    table, stride = m.sigmas, len(m.sigmas) / n
    return _zero(np.array([table[-(1 + int(x * stride))] for x in range(n)]))


def normal(n: int, m: ModelSchedule) -> np.ndarray:
    start, end = m.sigma_to_t(m.sigma_max), m.sigma_to_t(m.sigma_min)
    return _zero(m.t_to_sigma(np.linspace(start, end, n)))


def ddim_uniform(n: int, m: ModelSchedule) -> np.ndarray:
    """A1111's "DDIM" schedule type: every ``1000 // n``-th level from 1 (so not always n steps)."""
    table, stride = m.sigmas, max(len(m.sigmas) // n, 1)
    return _zero(table[1::stride][::-1])


def align_your_steps(n: int, m: ModelSchedule) -> np.ndarray:
    table = np.array(_AYS[m.sdxl], dtype=np.float64)
    if n == len(table):
        return _zero(table)
    xs, ys = np.linspace(0, 1, len(table)), np.log(table[::-1])
    return _zero(np.exp(np.interp(np.linspace(0, 1, n), xs, ys))[::-1])


def beta(n: int, m: ModelSchedule) -> np.ndarray:
    from scipy import stats

    points = stats.beta.ppf(1 - np.linspace(0, 1, n), BETA_ALPHA, BETA_BETA)
    return _zero(m.sigma_min + points * (m.sigma_max - m.sigma_min))


SCHEDULES: dict[str, Callable[[int, ModelSchedule], np.ndarray]] = {
    "uniform": uniform,
    "karras": karras,
    "exponential": exponential,
    "polyexponential": polyexponential,
    "sgm_uniform": sgm_uniform,
    "simple": simple,
    "normal": normal,
    "ddim": ddim_uniform,
    "align_your_steps": align_your_steps,
    "beta": beta,
}


def sigmas(kind: str, n: int, m: ModelSchedule, discard_penultimate: bool = False) -> np.ndarray:
    """The noise levels of ``n`` steps of schedule type ``kind``, ending with 0.

    ``discard_penultimate`` is A1111's rule for DPM2 / DPM2 a: compute one step more, then drop
    the last non-zero level."""
    if n < 1:
        raise ValueError("a schedule needs at least one step")
    if not discard_penultimate:
        return SCHEDULES[kind](n, m)
    longer = SCHEDULES[kind](n + 1, m)
    return np.concatenate([longer[:-2], longer[-1:]])


def ddim_timesteps(n: int) -> np.ndarray:
    """A1111's DDIM / PLMS timesteps, ascending: 1, 1 + k, 1 + 2k, ... with k = 1000 // n.

    Its samplers step from the last down to the first, so ``n`` steps make ``len - 1`` model
    calls and end at timestep 1."""
    return np.clip(np.arange(0, 1000, max(1000 // n, 1)) + 1, 0, 999)


def unipc_times(n: int) -> np.ndarray:
    """The model timesteps A1111's UniPC (time-uniform) visits: 999 down to 0 in ``n`` equal parts."""
    return np.linspace(999.0, 0.0, n + 1)


def unipc_sigmas(n: int, m: ModelSchedule) -> np.ndarray:
    """The noise level at each of ``unipc_times(n)``, interpolating log alpha linearly in time as
    A1111's UniPC does (the last is the model's lowest level, not 0)."""
    log_alpha = 0.5 * np.log(m.alphas_cumprod.astype(np.float64))
    alpha = np.exp(np.interp(unipc_times(n), np.arange(len(log_alpha)), log_alpha))
    return np.sqrt(1 - alpha**2) / alpha
