"""A1111's sampler names and schedule types, mapped to diffusers schedulers.

k-diffusion samplers use ``timestep_spacing="linspace"`` so their sigmas match A1111's; DDIM and
PLMS keep the model's "leading" spacing, which is how A1111's own DDIM/PLMS pick timesteps.
Schedulers are cached per (sampler, schedule type, base config): a request builds nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplerSpec:
    name: str
    aliases: tuple[str, ...]
    scheduler_class: str  # a diffusers class name, or "EulerAncestralSigmas" (ours, below)
    kwargs: dict[str, Any] = field(default_factory=dict)
    default_schedule: str = "uniform"  # what "Automatic" means for this sampler
    sigma_schedules: bool = True  # honours Karras / Exponential
    spacing: str = "linspace"  # "" keeps the model's own timestep spacing
    options: dict[str, str] = field(default_factory=dict)

    def as_api(self) -> dict[str, Any]:
        """One entry of ``GET /sdapi/v1/samplers``."""
        return {"name": self.name, "aliases": list(self.aliases), "options": dict(self.options)}


@dataclass(frozen=True)
class ScheduleType:
    name: str
    label: str
    default_rho: float = -1.0

    def as_api(self) -> dict[str, Any]:
        """One entry of ``GET /sdapi/v1/schedulers``."""
        return {"name": self.name, "label": self.label, "aliases": None,
                "default_rho": self.default_rho, "need_inner_model": False}


_DPM = "DPMSolverMultistepScheduler"
SAMPLERS: tuple[SamplerSpec, ...] = (
    SamplerSpec("DPM++ 2M", ("k_dpmpp_2m",), _DPM,
                {"algorithm_type": "dpmsolver++", "solver_order": 2}, "karras",
                options={"scheduler": "karras"}),
    SamplerSpec("DPM++ SDE", ("k_dpmpp_sde",), "DPMSolverSDEScheduler", {}, "karras",
                options={"scheduler": "karras", "second_order": "True", "brownian_noise": "True"}),
    SamplerSpec("DPM++ 2M SDE", ("k_dpmpp_2m_sde",), _DPM,
                {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}, "exponential",
                options={"scheduler": "exponential", "brownian_noise": "True"}),
    SamplerSpec("Euler a", ("k_euler_a", "k_euler_ancestral"), "EulerAncestralSigmas",
                options={"uses_ensd": "True"}),
    SamplerSpec("Euler", ("k_euler",), "EulerDiscreteScheduler"),
    SamplerSpec("LMS", ("k_lms",), "LMSDiscreteScheduler"),
    SamplerSpec("Heun", ("k_heun",), "HeunDiscreteScheduler", options={"second_order": "True"}),
    SamplerSpec("DPM2", ("k_dpm_2",), "KDPM2DiscreteScheduler",
                options={"discard_next_to_last_sigma": "True", "second_order": "True"}),
    SamplerSpec("DPM2 a", ("k_dpm_2_a",), "KDPM2AncestralDiscreteScheduler",
                options={"discard_next_to_last_sigma": "True", "uses_ensd": "True",
                         "second_order": "True"}),
    SamplerSpec("DDIM", ("ddim",), "DDIMScheduler", {"set_alpha_to_one": False},
                sigma_schedules=False, spacing=""),
    SamplerSpec("PLMS", ("plms",), "PNDMScheduler", {"skip_prk_steps": True},
                sigma_schedules=False, spacing=""),
    SamplerSpec("UniPC", ("unipc",), "UniPCMultistepScheduler"),
    SamplerSpec("LCM", ("k_lcm",), "LCMScheduler", sigma_schedules=False, spacing=""),
)

SCHEDULE_TYPES: tuple[ScheduleType, ...] = (
    ScheduleType("automatic", "Automatic"),
    ScheduleType("uniform", "Uniform"),
    ScheduleType("karras", "Karras", 7.0),
    ScheduleType("exponential", "Exponential"),
)

_FLAGS = ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")


class UnknownSamplerError(ValueError):
    """A sampler or schedule type name that Maple does not know; the message lists the known ones."""


def find_sampler(name: str) -> SamplerSpec:
    """The sampler called ``name`` (A1111 name or alias, any case)."""
    wanted = name.strip().lower()
    for spec in SAMPLERS:
        if wanted == spec.name.lower() or wanted in (a.lower() for a in spec.aliases):
            return spec
    known = ", ".join(spec.name for spec in SAMPLERS)
    raise UnknownSamplerError(f"Unknown sampler {name!r}; known samplers: {known}")


def find_schedule_type(name: str) -> ScheduleType:
    """The schedule type called ``name`` (label or name, any case; empty means Automatic)."""
    wanted = (name or "automatic").strip().lower()
    for kind in SCHEDULE_TYPES:
        if wanted in (kind.name, kind.label.lower()):
            return kind
    known = ", ".join(kind.label for kind in SCHEDULE_TYPES)
    raise UnknownSamplerError(f"Unknown schedule type {name!r}; known schedule types: {known}")


def split_legacy_name(name: str) -> tuple[str, str]:
    """``"DPM++ 2M Karras"`` (A1111 before 1.9) -> ``("DPM++ 2M", "Karras")``."""
    for kind in SCHEDULE_TYPES[1:]:
        suffix = " " + kind.label
        if name.endswith(suffix) and name[: -len(suffix)].lower() in _all_names():
            return name[: -len(suffix)], kind.label
    return name, "Automatic"


def _all_names() -> set[str]:
    return {spec.name.lower() for spec in SAMPLERS}


_CACHE: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def make_scheduler(name: str, schedule_type: str, base_config: Any) -> Any:
    """A diffusers scheduler for A1111's ``name`` + ``schedule_type`` built from the model's config."""
    spec = find_sampler(name)
    kind = find_schedule_type(schedule_type)
    key = (spec.name, kind.name, id(base_config))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is base_config:
        return cached[1]
    scheduler = _build(spec, resolve_schedule(spec, kind.name), dict(base_config))
    _CACHE[key] = (base_config, scheduler)
    return scheduler


def resolve_schedule(spec: SamplerSpec, schedule: str) -> str:
    """The concrete schedule ("uniform", "karras", "exponential") a sampler runs with."""
    schedule = spec.default_schedule if schedule == "automatic" else schedule
    if not spec.sigma_schedules and schedule != "uniform":
        logger.info("%s has no %s schedule; using its own timesteps", spec.name, schedule)
        return "uniform"
    return schedule


def _build(spec: SamplerSpec, schedule: str, config: dict[str, Any]) -> Any:
    import diffusers

    config = {k: v for k, v in config.items() if not k.startswith("_") and k not in _FLAGS}
    config.update(spec.kwargs)
    if spec.spacing:
        config["timestep_spacing"] = spec.spacing
    if spec.scheduler_class == "EulerAncestralSigmas":
        scheduler = _euler_ancestral_class().from_config(config)
        scheduler.sigma_schedule = schedule
        return scheduler
    if spec.sigma_schedules:
        config["use_karras_sigmas"] = schedule == "karras"
        config["use_exponential_sigmas"] = schedule == "exponential"
    return getattr(diffusers, spec.scheduler_class).from_config(config)


def prepare_scheduler(scheduler: Any, seeds: list[int], steps: int) -> None:
    """Per-run settings: DPM++ SDE's Brownian trees, one per image seeded with its seed (as
    A1111 does); LCM's distillation step count raised when more steps are asked for."""
    if hasattr(scheduler, "noise_sampler_seed"):
        scheduler.noise_sampler_seed = list(seeds) if len(seeds) > 1 else seeds[0]
        scheduler.noise_sampler = None
    if "original_inference_steps" in scheduler.config:
        scheduler.register_to_config(original_inference_steps=max(50, steps))


def karras_sigmas(steps: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> Any:
    """Karras et al. (2022) sigmas, highest first, as A1111 computes them (without the final 0)."""
    import numpy as np

    ramp = np.linspace(0.0, 1.0, steps)
    low, high = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return (high + ramp * (low - high)) ** rho


def exponential_sigmas(steps: int, sigma_min: float, sigma_max: float) -> Any:
    """Sigmas evenly spaced in log space, highest first (without the final 0)."""
    import numpy as np

    return np.exp(np.linspace(np.log(sigma_max), np.log(sigma_min), steps))


_EULER_A: list[Any] = []


def _euler_ancestral_class() -> Any:
    """EulerAncestralDiscreteScheduler that also runs Karras / Exponential sigmas (A1111 allows it)."""
    if _EULER_A:
        return _EULER_A[0]
    import numpy as np
    import torch
    from diffusers import EulerAncestralDiscreteScheduler

    base: Any = EulerAncestralDiscreteScheduler

    class EulerAncestralSigmas(base):  # type: ignore[misc,valid-type]
        sigma_schedule = "uniform"

        def set_timesteps(self, num_inference_steps: int, device: Any = None) -> None:
            super().set_timesteps(num_inference_steps, device)
            if self.sigma_schedule == "uniform":
                return
            train = ((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5
            low, high = float(train[0]), float(train[-1])
            make = karras_sigmas if self.sigma_schedule == "karras" else exponential_sigmas
            sigmas = make(num_inference_steps, low, high)
            steps = np.interp(np.log(sigmas), np.log(train.numpy()), np.arange(len(train)))
            self.sigmas = torch.cat([torch.from_numpy(sigmas).float(), torch.zeros(1)])
            self.timesteps = torch.from_numpy(steps).float().to(device=device)

    _EULER_A.append(EulerAncestralSigmas)
    return EulerAncestralSigmas
