"""The pipelines one loaded model generates with, built once and reused across requests.

img2img and inpaint pipelines share every module of the loaded (txt2img) pipeline, so they cost
no memory; each is made the first time it is needed. The model's own
scheduler config is kept aside: samplers are always built from it, never from a previous one.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Any

from engine.generation.samplers import make_scheduler
from engine.models.loaded import LoadedModel
from engine.prompts.embeds import is_sdxl

logger = logging.getLogger(__name__)


@dataclass
class PipeSet:
    txt2img: Any
    base_config: Any
    built: dict[str, Any] = field(default_factory=dict)

    @property
    def sdxl(self) -> bool:
        return is_sdxl(self.txt2img)

    @property
    def txt2img_capable(self) -> bool:
        return _kind_of(self.txt2img) == "txt2img"

    @property
    def inpainting_unet(self) -> bool:
        """True for 9-channel (inpainting) checkpoints."""
        return int(self.txt2img.unet.config.in_channels) == 9

    def img2img(self) -> Any:
        return self._derived("img2img")

    def inpaint(self) -> Any:
        return self._derived("inpaint")

    def _derived(self, kind: str) -> Any:
        if _kind_of(self.txt2img) == kind:  # the loaded pipeline already is one (inpainting, refiner)
            return self.txt2img
        pipe = self.built.get(kind)
        if pipe is None:
            pipe = derive(_pipeline_class(kind, self.sdxl), self.txt2img)
            pipe.set_progress_bar_config(disable=True)
            self.built[kind] = pipe
            logger.debug("built the %s pipeline from the loaded model", kind)
        self._sync(pipe)
        return pipe

    def _sync(self, pipe: Any) -> None:
        """Follow components swapped on the txt2img pipeline since (a new VAE, a text encoder)."""
        for name, component in self.txt2img.components.items():
            if name != "scheduler" and hasattr(pipe, name) and getattr(pipe, name) is not component:
                setattr(pipe, name, component)

    def with_sampler(self, pipe: Any, sampler: str, schedule_type: str) -> Any:
        """``pipe`` with A1111's sampler ``sampler`` / ``schedule_type`` set (cached schedulers)."""
        pipe.scheduler = make_scheduler(sampler, schedule_type, self.base_config)
        return pipe


def _kind_of(pipe: Any) -> str:
    name = type(pipe).__name__
    return "inpaint" if "Inpaint" in name else "img2img" if "Img2Img" in name else "txt2img"


def _pipeline_class(kind: str, sdxl: bool) -> Any:
    import diffusers

    names = {
        ("img2img", False): "StableDiffusionImg2ImgPipeline",
        ("inpaint", False): "StableDiffusionInpaintPipeline",
        ("img2img", True): "StableDiffusionXLImg2ImgPipeline",
        ("inpaint", True): "StableDiffusionXLInpaintPipeline",
    }
    return getattr(diffusers, names[(kind, sdxl)])


def derive(cls: Any, source: Any) -> Any:
    """A ``cls`` pipeline sharing ``source``'s modules, exactly as they are.

    Not ``from_pipe``: in diffusers 0.42 it casts every shared module to its ``dtype`` argument,
    float32 by default, which would turn a half-precision model into a full-precision one (and
    an fp32-rescued VAE back into fp16).
    """
    expected, optional = cls._get_signature_keys(cls)
    components = source.components
    kwargs = {name: components.get(name) for name in expected}
    missing = [n for n, v in kwargs.items() if v is None and n not in cls._optional_components]
    if missing:
        raise ValueError(f"{cls.__name__} needs {', '.join(missing)}, which the loaded model lacks")
    for name in optional:
        if name in source.config:
            kwargs[name] = source.config[name]
    if "requires_safety_checker" in optional and kwargs.get("safety_checker") is None:
        kwargs["requires_safety_checker"] = False
    return cls(**kwargs)


_SETS: weakref.WeakKeyDictionary[Any, PipeSet] = weakref.WeakKeyDictionary()


def pipes_for(model: LoadedModel) -> PipeSet:
    """The cached pipelines of ``model`` (keyed by its txt2img pipeline; freed with it)."""
    pipe = model.pipe
    found = _SETS.get(pipe)
    if found is None:
        pipe.set_progress_bar_config(disable=True)
        found = PipeSet(pipe, pipe.scheduler.config)
        _SETS[pipe] = found
    return found
