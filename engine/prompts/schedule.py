"""A1111's prompt editing ``[from:to:when]`` and alternation ``[a|b]``.

``[a:b:10]`` is ``a`` until step 10 and ``b`` after it; ``when`` below 1 is a fraction of the
steps; ``[a:10]`` adds ``a`` after step 10 and ``[a::10]`` removes it there. ``[a|b|c]`` takes
the next option at every step. Other brackets (emphasis) are kept as they are, with what is
inside them still parsed. ``prompt_schedule`` returns ``[(end_step, text), ...]``: at the
0-based sampling step ``i`` the text of the first entry with ``i <= end_step`` applies.
"""

from __future__ import annotations


def has_schedule(prompt: str) -> bool:
    """Whether the prompt edits or alternates anything, as A1111's grammar reads it (``edit_grammar``)."""
    from engine.prompts.edit_grammar import has_constructs

    return has_constructs(prompt)


def prompt_schedule(prompt: str, steps: int, first_pass_steps: int | None = None) -> list[tuple[int, str]]:
    """A1111's schedule of the prompt over ``steps`` (``first_pass_steps``: hires fix's second pass).

    A prompt A1111's grammar rejects is taken literally (``edit_grammar``)."""
    from engine.prompts.edit_grammar import Timeline, schedule

    return schedule(prompt, Timeline(steps, first_pass_steps))


def text_at(schedule: list[tuple[int, str]], step_index: int) -> str:
    for end, text in schedule:
        if step_index <= end:
            return text
    return schedule[-1][1]
