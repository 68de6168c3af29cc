"""DDIM and PLMS as A1111 runs them, as the ``set_timesteps`` / ``step`` of diffusers scheduler classes.

A1111's own DDIM and PLMS walk its timesteps ``1, 1 + k, 1 + 2k, ...`` (k = 1000 // steps, the top
one clipped to 999) from the last down to the second, each step moving to the previous entry, so a
run ends at timestep 1 and makes one model call fewer than its step count (PLMS adds one at its
first step: a pseudo improved-Euler step, then Adams-Bashforth steps of order 2, 3, 4). The
scheduler classes keep diffusers' ``add_noise`` and the pipelines' loop; these functions replace
their timesteps and their update. v-prediction models' outputs are turned into noise predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.generation import schedules


def _alphas(self: Any) -> Any:
    return self.alphas_cumprod


def _eps(self: Any, model_output: Any, timestep: int, sample: Any) -> Any:
    if self.config.prediction_type != "v_prediction":
        return model_output
    a = _alphas(self)[timestep].to(sample.device, sample.dtype)
    return a.sqrt() * model_output + (1 - a).sqrt() * sample


def _prev_map(ts: np.ndarray) -> dict[int, int]:
    return {int(ts[k]): int(ts[k - 1]) for k in range(1, len(ts))}


def _move(self: Any, sample: Any, eps: Any, t: int, prev: int, sigma: float = 0.0) -> tuple[Any, Any]:
    """One DDIM update from ``t`` to ``prev``: (the sample at ``prev`` before noise, predicted x0)."""
    a_t = float(_alphas(self)[t])
    a_prev = float(_alphas(self)[prev])
    x0 = (sample - (1 - a_t) ** 0.5 * eps) / a_t**0.5
    return a_prev**0.5 * x0 + max(1 - a_prev - sigma**2, 0.0) ** 0.5 * eps, x0


def set_ddim(self: Any, num_inference_steps: int | None = None, device: Any = None,
             *args: Any, **kwargs: Any) -> None:
    import torch

    steps = int(num_inference_steps or 1)
    self.a1111_base.set_timesteps(self, steps, device)
    ts = schedules.ddim_timesteps(steps)
    self.a1111_prev = _prev_map(ts)
    self.timesteps = torch.from_numpy(ts[1:][::-1].copy()).long().to(device)


def step_ddim(self: Any, model_output: Any, timestep: Any, sample: Any, eta: float = 0.0,
              use_clipped_model_output: bool = False, generator: Any = None, variance_noise: Any = None,
              return_dict: bool = True) -> Any:
    from diffusers.schedulers.scheduling_ddim import DDIMSchedulerOutput

    t = int(timestep)
    prev = self.a1111_prev[t]
    eps = _eps(self, model_output, t, sample)
    a_t, a_prev = float(_alphas(self)[t]), float(_alphas(self)[prev])
    sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)) ** 0.5
    moved, x0 = _move(self, sample, eps, t, prev, sigma)
    if sigma > 0:
        moved = moved + sigma * _noise(self, sample, generator, variance_noise)
    if not return_dict:
        return (moved, x0)
    return DDIMSchedulerOutput(prev_sample=moved, pred_original_sample=x0)


def _noise(self: Any, sample: Any, generator: Any, given: Any) -> Any:
    import torch

    if given is not None:
        return given
    if self.noise is not None:
        return self.noise.step_noise(tuple(sample.shape)).to(sample.device, sample.dtype)
    from diffusers.utils.torch_utils import randn_tensor

    noise: torch.Tensor = randn_tensor(sample.shape, generator=generator, device=sample.device, dtype=sample.dtype)
    return noise


def set_plms(self: Any, num_inference_steps: int | None = None, device: Any = None,
             *args: Any, **kwargs: Any) -> None:
    """The model calls: the first step's twice (the second at the next timestep), then one per step."""
    import torch

    steps = int(num_inference_steps or 1)
    self.a1111_base.set_timesteps(self, steps, device)
    ts = schedules.ddim_timesteps(steps)
    self.a1111_prev = _prev_map(ts)
    visited = ts[1:][::-1]
    plan = np.concatenate([visited[:1], ts[-2:-1], visited[1:]]) if len(visited) else visited
    self.timesteps = torch.from_numpy(plan.astype(np.int64)).to(device)
    self.a1111_calls = 0
    self.a1111_eps = []
    self.a1111_start = None  # (sample, timestep, noise prediction) of the first step


def step_plms(self: Any, model_output: Any, timestep: Any, sample: Any, return_dict: bool = True) -> Any:
    from diffusers.schedulers.scheduling_utils import SchedulerOutput

    t = int(timestep)
    calls, self.a1111_calls = self.a1111_calls, self.a1111_calls + 1
    if calls == 0:  # improved Euler, first half: a trial step to the next timestep
        eps = _eps(self, model_output, t, sample)
        self.a1111_start = (sample, t, eps)
        moved, _ = _move(self, sample, eps, t, self.a1111_prev[t])
    elif calls == 1:  # second half: the average of both noise predictions, from the start again
        assert self.a1111_start is not None
        start, first_t, first_eps = self.a1111_start
        moved, _ = _move(self, start, (first_eps + _eps(self, model_output, t, sample)) / 2,
                         first_t, self.a1111_prev[first_t])
        self.a1111_eps = [first_eps]
    else:
        eps = _eps(self, model_output, t, sample)
        moved, _ = _move(self, sample, _adams_bashforth(eps, self.a1111_eps), t, self.a1111_prev[t])
        self.a1111_eps = [*self.a1111_eps, eps][-3:]
    if not return_dict:
        return (moved,)
    return SchedulerOutput(prev_sample=moved)


def _adams_bashforth(eps: Any, old: list[Any]) -> Any:
    if len(old) == 1:
        return (3 * eps - old[-1]) / 2
    if len(old) == 2:
        return (23 * eps - 16 * old[-1] + 5 * old[-2]) / 12
    return (55 * eps - 59 * old[-1] + 37 * old[-2] - 9 * old[-3]) / 24
