"""Prompt embeddings over the steps of a pass, for prompt editing and alternation.

A job's ``Conditioner`` encodes each distinct prompt text once. For a pass of N steps it gives a
``ScheduledEmbeds``: the positive and negative embeddings for every step range, all padded to
the same number of chunks. Prompts without ``[a:b:when]`` / ``[a|b]`` have one entry each, and
the step callback never touches the embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.prompts.embeddings import Embedding, EmbeddingSet
from engine.prompts.embeds import PromptEmbeds, encode_prompt, is_sdxl, pad_embeds
from engine.prompts.schedule import has_schedule, prompt_schedule

Schedule = list[tuple[int, PromptEmbeds]]


@dataclass
class ScheduledEmbeds:
    cond: Schedule
    uncond: Schedule

    @property
    def changing(self) -> bool:
        return len(self.cond) > 1 or len(self.uncond) > 1

    def at(self, step_index: int) -> tuple[PromptEmbeds, PromptEmbeds]:
        return _pick(self.cond, step_index), _pick(self.uncond, step_index)

    def pipe_kwargs(self) -> dict[str, Any]:
        cond, uncond = self.at(0)
        return cond.pipe_kwargs(uncond)


def _pick(schedule: Schedule, step_index: int) -> PromptEmbeds:
    for end, embeds in schedule:
        if step_index <= end:
            return embeds
    return schedule[-1][1]


@dataclass
class Conditioner:
    pipe: Any
    prompt: str
    negative: str
    clip_skip: int = 1
    embeddings: EmbeddingSet | None = None  # the textual-inversion embeddings prompts may name
    _encoded: dict[str, PromptEmbeds] = field(default_factory=dict)
    _device: Any = None
    _plans: dict[tuple[int, int | None], ScheduledEmbeds] = field(default_factory=dict)

    def for_steps(self, steps: int, first_pass_steps: int | None = None) -> ScheduledEmbeds:
        """The embeddings over a pass of ``steps``; ``first_pass_steps`` for hires fix's second pass."""
        plan = self._plans.get((steps, first_pass_steps))
        if plan is None:
            plan = self._plans[(steps, first_pass_steps)] = self._plan(max(1, steps), first_pass_steps)
        return plan

    def _plan(self, steps: int, first_pass_steps: int | None = None) -> ScheduledEmbeds:
        cond = [(end, self._encode(text)) for end, text in _texts(self.prompt, steps, first_pass_steps)]
        if is_sdxl(self.pipe) and not self.negative.strip():
            zeros = PromptEmbeds(cond[0][1].embeds * 0, cond[0][1].pooled * 0)
            uncond = [(steps, zeros)]
        else:
            uncond = [(end, self._encode(text)) for end, text in _texts(self.negative, steps, first_pass_steps)]
        chunks = max(e.chunks for _, e in cond + uncond)
        if all(e.chunks == chunks for _, e in cond + uncond):
            return ScheduledEmbeds(cond, uncond)
        empty = self._encode("")
        return ScheduledEmbeds([(end, pad_embeds(e, chunks, empty)) for end, e in cond],
                               [(end, pad_embeds(e, chunks, empty)) for end, e in uncond])

    def _encode(self, text: str) -> PromptEmbeds:
        found = self._encoded.get(text)
        if found is None:
            if self._device is None:
                self._device = self.pipe._execution_device
            found = self._encoded[text] = encode_prompt(self.pipe, text, self.clip_skip, self._device,
                                                        self.embeddings)
        return found

    @property
    def used(self) -> list[Embedding]:
        """The embeddings the prompts encoded so far named (positive prompt first)."""
        return [embedding for encoded in self._encoded.values() for embedding in encoded.used]


def _texts(prompt: str, steps: int, first_pass_steps: int | None = None) -> list[tuple[int, str]]:
    return prompt_schedule(prompt, steps, first_pass_steps) if has_schedule(prompt) else [(steps, prompt)]


def swap_kwargs(plan: ScheduledEmbeds, step_index: int, pipe: Any, images: int) -> dict[str, Any]:
    """The callback outputs that switch the pipeline to step ``step_index``'s embeddings."""
    import torch

    cond, uncond = plan.at(step_index)
    guided = bool(getattr(pipe, "do_classifier_free_guidance", True))

    def both(pos: Any, neg: Any, dims: int) -> Any:
        reps = (images,) + (1,) * (dims - 1)
        pos = pos.repeat(*reps)
        return torch.cat([neg.repeat(*reps), pos]) if guided else pos

    out = {"prompt_embeds": both(cond.embeds, uncond.embeds, 3)}
    if cond.pooled is not None:
        out["add_text_embeds"] = both(cond.pooled, uncond.pooled, 2)
    return out

