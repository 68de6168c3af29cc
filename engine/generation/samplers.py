"""A1111's sampler names and schedule types, mapped to diffusers schedulers that step as A1111's.

Each sampler is a diffusers scheduler class subclassed by ``scheduler_hooks``: the k-diffusion
samplers (Euler, DPM++ ...) step through the noise levels of A1111's schedule types
(``schedules``), DDIM / PLMS / UniPC through the timesteps of A1111's own implementations (UniPC:
bh1, order 3, time-uniform), and all of them draw their noise from the job's ``NoiseStream``.
Schedulers are cached per (sampler, schedule type, base config, SDXL): a request builds nothing new.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.generation.rng import NoiseStream

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplerSpec:
    name: str
    aliases: tuple[str, ...]
    scheduler_class: str  # a diffusers class name
    kwargs: dict[str, Any] = field(default_factory=dict)
    default_schedule: str = "uniform"  # what "Automatic" means for this sampler
    sigma_schedules: bool = True  # honours the schedule types (A1111's k-diffusion samplers)
    stepping: str = "sigmas"  # how it steps: see scheduler_hooks.STEPPINGS
    discard_penultimate: bool = False  # DPM2 / DPM2 a: one level more, then drop the last
    options: dict[str, str] = field(default_factory=dict)

    def as_api(self) -> dict[str, Any]:
        """One entry of ``GET /sdapi/v1/samplers``."""
        return {"name": self.name, "aliases": list(self.aliases), "options": dict(self.options)}


@dataclass(frozen=True)
class ScheduleType:
    name: str
    label: str
    default_rho: float = -1.0
    aliases: tuple[str, ...] = ()

    def as_api(self) -> dict[str, Any]:
        """One entry of ``GET /sdapi/v1/schedulers``."""
        return {"name": self.name, "label": self.label, "aliases": list(self.aliases) or None,
                "default_rho": self.default_rho, "need_inner_model": self.name in _NEED_MODEL_TABLE}


_NEED_MODEL_TABLE = ("uniform", "sgm_uniform", "simple", "normal", "ddim", "beta")


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
    SamplerSpec("Euler a", ("k_euler_a", "k_euler_ancestral"), "EulerAncestralDiscreteScheduler",
                options={"uses_ensd": "True"}),
    SamplerSpec("Euler", ("k_euler",), "EulerDiscreteScheduler"),
    SamplerSpec("LMS", ("k_lms",), "LMSDiscreteScheduler"),
    SamplerSpec("Heun", ("k_heun",), "HeunDiscreteScheduler", options={"second_order": "True"}),
    SamplerSpec("DPM2", ("k_dpm_2",), "KDPM2DiscreteScheduler", {}, "karras", discard_penultimate=True,
                options={"scheduler": "karras", "discard_next_to_last_sigma": "True", "second_order": "True"}),
    SamplerSpec("DPM2 a", ("k_dpm_2_a",), "KDPM2AncestralDiscreteScheduler", {}, "karras",
                discard_penultimate=True,
                options={"scheduler": "karras", "discard_next_to_last_sigma": "True", "uses_ensd": "True",
                         "second_order": "True"}),
    SamplerSpec("DDIM", ("ddim",), "DDIMScheduler", {"set_alpha_to_one": False},
                sigma_schedules=False, stepping="ddim"),
    SamplerSpec("PLMS", ("plms",), "PNDMScheduler", {"skip_prk_steps": True, "set_alpha_to_one": False},
                sigma_schedules=False, stepping="plms"),
    SamplerSpec("UniPC", ("unipc",), "UniPCMultistepScheduler",
                {"solver_order": 3, "solver_type": "bh1", "predict_x0": True, "lower_order_final": True},
                sigma_schedules=False, stepping="unipc"),
    SamplerSpec("LCM", ("k_lcm",), "LCMScheduler", sigma_schedules=False, stepping="plain"),
)

SCHEDULE_TYPES: tuple[ScheduleType, ...] = (
    ScheduleType("automatic", "Automatic"),
    ScheduleType("uniform", "Uniform"),
    ScheduleType("karras", "Karras", 7.0),
    ScheduleType("exponential", "Exponential"),
    ScheduleType("polyexponential", "Polyexponential", 1.0),
    ScheduleType("sgm_uniform", "SGM Uniform", aliases=("SGMUniform",)),
    ScheduleType("align_your_steps", "Align Your Steps"),
    ScheduleType("simple", "Simple"),
    ScheduleType("normal", "Normal"),
    ScheduleType("ddim", "DDIM"),
    ScheduleType("beta", "Beta"),
)
LEGACY_SUFFIXES = ("Karras", "Exponential")  # A1111 before 1.9 wrote "DPM++ 2M Karras"

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
    """The schedule type called ``name`` (label, name or alias, any case; empty means Automatic)."""
    wanted = (name or "automatic").strip().lower()
    for kind in SCHEDULE_TYPES:
        if wanted in (kind.name, kind.label.lower(), *(a.lower() for a in kind.aliases)):
            return kind
    known = ", ".join(kind.label for kind in SCHEDULE_TYPES)
    raise UnknownSamplerError(f"Unknown schedule type {name!r}; known schedule types: {known}")


def split_legacy_name(name: str) -> tuple[str, str]:
    """``"DPM++ 2M Karras"`` (A1111 before 1.9) -> ``("DPM++ 2M", "Karras")``."""
    for label in LEGACY_SUFFIXES:
        suffix = " " + label
        if name.endswith(suffix) and name[: -len(suffix)].lower() in _all_names():
            return name[: -len(suffix)], label
    return name, "Automatic"


def _all_names() -> set[str]:
    return {spec.name.lower() for spec in SAMPLERS}


_CACHE: dict[tuple[str, str, int, bool], tuple[Any, Any]] = {}


def make_scheduler(name: str, schedule_type: str, base_config: Any, sdxl: bool = False) -> Any:
    """A scheduler for A1111's ``name`` + ``schedule_type`` built from the model's config.

    ``sdxl`` picks SDXL's table where a schedule type has one (Align Your Steps)."""
    spec = find_sampler(name)
    kind = find_schedule_type(schedule_type)
    key = (spec.name, kind.name, id(base_config), sdxl)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is base_config:
        return cached[1]
    scheduler = _build(spec, resolve_schedule(spec, kind.name), dict(base_config), sdxl)
    _CACHE[key] = (base_config, scheduler)
    return scheduler


def resolve_schedule(spec: SamplerSpec, schedule: str) -> str:
    """The concrete schedule type a sampler runs with ("uniform" for the timestep samplers)."""
    schedule = spec.default_schedule if schedule == "automatic" else schedule
    if not spec.sigma_schedules and schedule != "uniform":
        logger.info("%s has no %s schedule; using its own timesteps", spec.name, schedule)
        return "uniform"
    return schedule


def _build(spec: SamplerSpec, schedule: str, base_config: dict[str, Any], sdxl: bool) -> Any:
    import diffusers

    from engine.generation.scheduler_hooks import configure, scheduler_class

    base = getattr(diffusers, spec.scheduler_class)
    known = set(inspect.signature(base.__init__).parameters)
    config = {k: v for k, v in base_config.items() if k in known and k not in _FLAGS}
    config.update(spec.kwargs)
    config["timestep_spacing"] = "linspace"
    cls: Any = scheduler_class(base, spec.stepping)
    scheduler = cls.from_config(config)
    # the table's zero-SNR rescale follows the model, whether or not the class knows the option
    scheduler.register_to_config(rescale_betas_zero_snr=bool(dict(base_config).get("rescale_betas_zero_snr")))
    return configure(scheduler, schedule, spec.discard_penultimate, sdxl)


def prepare_scheduler(scheduler: Any, seeds: list[int], steps: int, noise: NoiseStream | None = None) -> None:
    """Per-run settings: the run's noise (``noise``: every draw of the scheduler comes from it);
    DPM++ SDE's Brownian trees, one per image seeded with its seed (as A1111 does); LCM's
    distillation step count raised when more steps are asked for."""
    from engine.generation.scheduler_hooks import attach_noise

    attach_noise(scheduler, noise)
    if hasattr(scheduler, "noise_sampler_seed"):
        scheduler.noise_sampler_seed = list(seeds) if len(seeds) > 1 else seeds[0]
        scheduler.noise_sampler = None
    if "original_inference_steps" in scheduler.config:
        scheduler.register_to_config(original_inference_steps=max(50, steps))
