"""diffusers schedulers that step through A1111's noise levels and draw A1111's noise.

``scheduler_class(base, stepping)`` is a (cached) subclass of a diffusers scheduler class that:
- uses the model's noise table as A1111 builds it (``schedules.model_schedule``: double-precision
  betas, the zero-terminal-SNR rescale with A1111's finite last level);
- for ``stepping="sigmas"`` (the k-diffusion samplers) runs the class's own custom-sigma path with
  the levels of the chosen schedule type (``schedules.sigmas``) and gives the model continuous
  timesteps, as A1111 does (diffusers rounds them for some classes);
- for ``"unipc"`` visits the times A1111's UniPC visits; ``"ddim"`` and ``"plms"`` are A1111's own
  DDIM and PLMS (``timestep_samplers``);
- with a ``NoiseStream`` attached (``attach_noise``), mixes the stream's first noise in
  ``add_noise`` and answers every random draw of ``step`` from the stream; DPM++ 2M SDE's step noise
  comes from Brownian trees seeded with the images' seeds, as A1111's does.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.generation import schedules

if TYPE_CHECKING:
    from engine.generation.rng import NoiseStream

logger = logging.getLogger(__name__)

STEPPINGS = ("sigmas", "unipc", "ddim", "plms", "plain")
_CLASSES: dict[tuple[type, str], type] = {}


def scheduler_class(base: type, stepping: str) -> type:
    """``base`` with A1111's noise table, stepping and noise (one class per base and stepping)."""
    if stepping not in STEPPINGS:
        raise ValueError(f"unknown stepping {stepping!r}")
    key = (base, stepping)
    if key not in _CLASSES:
        _CLASSES[key] = _build(base, stepping)
    return _CLASSES[key]


def configure(scheduler: Any, schedule: str = "uniform", discard_penultimate: bool = False,
              sdxl: bool = False) -> Any:
    """Set what a built scheduler steps through (its class comes from ``scheduler_class``)."""
    if scheduler.a1111_stepping == "sigmas":  # the classes' custom-sigma path is their Karras one
        scheduler.register_to_config(use_karras_sigmas=True, use_exponential_sigmas=False, use_beta_sigmas=False)
    scheduler.a1111_schedule = schedule
    scheduler.a1111_discard = discard_penultimate
    scheduler.a1111_sdxl = sdxl
    scheduler.a1111_table = schedules.model_schedule(scheduler.config, sdxl)
    _use_table(scheduler)
    return scheduler


def attach_noise(scheduler: Any, stream: NoiseStream | None) -> None:
    """Noise for the next run: ``add_noise`` and ``step`` draw from ``stream`` (None: their own)."""
    scheduler.noise = stream
    scheduler.a1111_tree = None


def _use_table(scheduler: Any) -> None:
    import torch

    table = getattr(scheduler, "a1111_table", None)
    if table is not None and hasattr(scheduler, "alphas_cumprod"):
        scheduler.alphas_cumprod = torch.from_numpy(table.alphas_cumprod.copy())


def _build(base: type, stepping: str) -> type:
    namespace: dict[str, Any] = {
        "a1111_base": base,
        "a1111_steps": 0,
        "noise": None,
        "a1111_tree": None,
        "a1111_schedule": "uniform",
        "a1111_discard": False,
        "a1111_sdxl": False,
        "a1111_table": None,
        "add_noise": _add_noise,
        "step": _signed(_step, base.step),  # type: ignore[attr-defined]
        "a1111_stepping": stepping,
    }
    if stepping == "sigmas":
        namespace["_convert_to_karras"] = _levels
        namespace["set_timesteps"] = _signed(_set_sigma_timesteps, base.set_timesteps)  # type: ignore[attr-defined]
    elif stepping == "unipc":
        namespace["set_timesteps"] = _signed(_set_unipc_timesteps, base.set_timesteps)  # type: ignore[attr-defined]
    elif stepping in ("ddim", "plms"):
        from engine.generation import timestep_samplers as own

        rules = {"ddim": (own.set_ddim, own.step_ddim), "plms": (own.set_plms, own.step_plms)}[stepping]
        namespace["set_timesteps"] = _signed(rules[0], base.set_timesteps)  # type: ignore[attr-defined]
        namespace["step"] = _signed(rules[1], base.step)  # type: ignore[attr-defined]
    return type(base.__name__, (base,), namespace)


def _signed(function: Any, like: Any) -> Any:
    """``function`` showing ``like``'s signature (pipelines look for ``generator`` / ``eta`` in it)."""
    function_copy = _copy(function)
    function_copy.__signature__ = inspect.signature(like)
    return function_copy


def _copy(function: Any) -> Any:
    import types

    return types.FunctionType(function.__code__, function.__globals__, function.__name__,
                              function.__defaults__, function.__closure__)


def _table(self: Any) -> schedules.ModelSchedule:
    if self.a1111_table is None:
        self.a1111_table = schedules.model_schedule(self.config, self.a1111_sdxl)
    table: schedules.ModelSchedule = self.a1111_table
    return table


# --- the k-diffusion samplers ---------------------------------------------------------------

def _levels(self: Any, in_sigmas: Any = None, num_inference_steps: int | None = None) -> np.ndarray:
    """Stands in for the class's Karras conversion: A1111's levels without the final 0."""
    steps = int(num_inference_steps or self.a1111_steps or self.num_inference_steps)
    levels = schedules.sigmas(self.a1111_schedule, steps, _table(self), self.a1111_discard)
    return levels[:-1]


def _set_sigma_timesteps(self: Any, num_inference_steps: int | None = None, device: Any = None,
                         *args: Any, **kwargs: Any) -> None:
    import torch

    self.a1111_steps = int(num_inference_steps or 1)
    _use_table(self)
    self.a1111_base.set_timesteps(self, num_inference_steps, device, *args, **kwargs)
    levels = _levels(self)
    times = torch.from_numpy(_table(self).sigma_to_t(levels)).float()
    name = self.a1111_base.__name__
    if name == "EulerAncestralDiscreteScheduler":  # its set_timesteps has no custom-sigma path
        self.sigmas = torch.cat([torch.from_numpy(levels).float(), torch.zeros(1)])
        self.timesteps = times.to(device)
    elif name in ("KDPM2DiscreteScheduler", "KDPM2AncestralDiscreteScheduler"):
        fixed = self.timesteps.clone().float()
        fixed[0::2] = times.to(fixed.device)  # the main levels sit at even places, midpoints between
        self.timesteps = fixed
    elif name == "DPMSolverMultistepScheduler":
        self.timesteps = times.to(device)
        first = float(levels[0])  # it works in VP space: A1111's start, sigma_max * noise, scaled
        self.init_noise_sigma = first / (first**2 + 1) ** 0.5


# --- A1111's timestep samplers ------------------------------------------------------------------

def _set_unipc_timesteps(self: Any, num_inference_steps: int | None = None, device: Any = None,
                         *args: Any, **kwargs: Any) -> None:
    """999 .. 0 in equal parts; the last step ends at the model's lowest level, not at 0."""
    import torch

    steps = int(num_inference_steps or 1)
    _use_table(self)
    self.a1111_base.set_timesteps(self, steps, device)
    times = schedules.unipc_times(steps)
    self.timesteps = torch.from_numpy(times[:-1].copy()).float().to(device)
    self.sigmas = torch.from_numpy(schedules.unipc_sigmas(steps, _table(self))).float()
    self.num_inference_steps = steps




# --- noise -------------------------------------------------------------------------------------------

def _add_noise(self: Any, original_samples: Any, noise: Any, timesteps: Any) -> Any:
    if self.noise is not None:
        noise = self.noise.first(tuple(noise.shape)).to(device=noise.device, dtype=noise.dtype)
    return self.a1111_base.add_noise(self, original_samples, noise, timesteps)


def _step(self: Any, model_output: Any, timestep: Any, sample: Any, *args: Any, **kwargs: Any) -> Any:
    parent = self.a1111_base.step
    stream = self.noise
    if stream is None:
        return parent(self, model_output, timestep, sample, *args, **kwargs)
    if getattr(self.config, "algorithm_type", "") == "sde-dpmsolver++":
        kwargs["variance_noise"] = _brownian(self, timestep, sample, stream)
        return parent(self, model_output, timestep, sample, *args, **kwargs)
    if "generator" in inspect.signature(parent).parameters:
        kwargs["generator"] = stream.markers
    with stream.serving():
        return parent(self, model_output, timestep, sample, *args, **kwargs)


def _brownian(self: Any, timestep: Any, sample: Any, stream: NoiseStream) -> Any:
    """DPM++ 2M SDE's noise for this step: Brownian increments between this level and the next,
    one tree per image seeded with its seed (on the CPU, so every device draws the same)."""
    import torch

    if self.step_index is None:
        self._init_step_index(timestep)
    sigma, following = self.sigmas[self.step_index], self.sigmas[self.step_index + 1]
    if float(following) == 0:
        return torch.zeros_like(sample)
    if self.a1111_tree is None:
        from diffusers.schedulers.scheduling_dpmsolver_sde import BrownianTreeNoiseSampler

        levels = self.sigmas[self.sigmas > 0]
        self.a1111_tree = BrownianTreeNoiseSampler(sample.detach().float().cpu(), levels.min(), levels.max(),
                                                    stream.seeds if len(stream.seeds) > 1 else stream.seeds[0])
    noise = self.a1111_tree(sigma.cpu(), following.cpu())
    return noise.to(device=sample.device, dtype=sample.dtype)
