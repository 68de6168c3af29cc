"""A1111's prompt editing ``[from:to:when]`` and alternation ``[a|b]``.

``[a:b:10]`` is ``a`` until step 10 and ``b`` after it; ``when`` below 1 is a fraction of the
steps; ``[a:10]`` adds ``a`` after step 10 and ``[a::10]`` removes it there. ``[a|b|c]`` takes
the next option at every step. Other brackets (emphasis) are kept as they are, with what is
inside them still parsed. ``prompt_schedule`` returns ``[(end_step, text), ...]``: at the
0-based sampling step ``i`` the text of the first entry with ``i <= end_step`` applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.prompts.parser import check_nesting

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$")


@dataclass
class Scheduled:
    before: list[Node]
    after: list[Node]
    when: float


@dataclass
class Alternate:
    options: list[list[Node]]


Node = str | Scheduled | Alternate


def has_schedule(prompt: str) -> bool:
    """Whether the prompt edits or alternates anything, as A1111's grammar reads it (``edit_grammar``)."""
    from engine.prompts.edit_grammar import has_constructs

    return has_constructs(prompt)


def prompt_schedule(prompt: str, steps: int, first_pass_steps: int | None = None) -> list[tuple[int, str]]:
    """A1111's schedule of the prompt over ``steps`` (``first_pass_steps``: hires fix's second pass).

    A prompt A1111's grammar rejects is taken literally (``edit_grammar``)."""
    from engine.prompts.edit_grammar import Timeline, schedule

    return schedule(prompt, Timeline(steps, first_pass_steps))


def _own_schedule(prompt: str, steps: int) -> list[tuple[int, str]]:
    tree = parse(prompt)
    boundaries = sorted({steps, *_boundaries(tree, steps)})
    schedule: list[tuple[int, str]] = []
    for step in boundaries:
        text = render(tree, step, steps)
        if schedule and schedule[-1][1] == text:
            schedule[-1] = (step, text)
        else:
            schedule.append((step, text))
    return schedule


def text_at(schedule: list[tuple[int, str]], step_index: int) -> str:
    for end, text in schedule:
        if step_index <= end:
            return text
    return schedule[-1][1]


def parse(text: str) -> list[Node]:
    check_nesting(text)  # the descent below is recursive: depth is bounded first (422 beyond)
    nodes, _ = _parse(text, 0, "")
    return nodes


def _parse(text: str, pos: int, stops: str) -> tuple[list[Node], int]:
    """Nodes from ``pos`` up to (not including) a character of ``stops`` at this level."""
    nodes: list[Node] = []
    plain: list[str] = []
    while pos < len(text) and text[pos] not in stops:
        char = text[pos]
        if char == "\\":
            plain.append(text[pos : pos + 2])
            pos += 2
        elif char == "[":
            found, pos = _bracket(text, pos)
            nodes.extend(["".join(plain), *found])
            plain = []
        elif char == "(":
            inner, end = _parse(text, pos + 1, ")")
            closed = end < len(text)
            nodes.extend(["".join(plain), "(", *inner] + ([")"] if closed else []))
            plain, pos = [], end + 1
        else:
            plain.append(char)
            pos += 1
    nodes.append("".join(plain))
    return [n for n in nodes if n != ""], pos


def _bracket(text: str, pos: int) -> tuple[list[Node], int]:
    """``[...]`` at ``pos``: a Scheduled or Alternate node, or the brackets kept as text."""
    parts: list[list[Node]] = []
    seps: list[str] = []
    cursor = pos + 1
    while True:
        part, cursor = _parse(text, cursor, ":|]")
        parts.append(part)
        if cursor >= len(text) or text[cursor] == "]":
            break
        seps.append(text[cursor])
        cursor += 1
    end = cursor + 1
    closed = cursor < len(text)
    node = _classify(parts, seps) if closed else None
    if node is not None:
        return [node], end
    return _literal(parts, seps, closed), min(end, len(text))


def _classify(parts: list[list[Node]], seps: list[str]) -> Node | None:
    if seps and all(s == "|" for s in seps):
        return Alternate(parts)
    if seps and all(s == ":" for s in seps) and len(parts) in (2, 3):
        last = parts[-1]
        match = _NUMBER.match(last[0]) if len(last) == 1 and isinstance(last[0], str) else None
        if match is not None:
            before = parts[0] if len(parts) == 3 else []
            return Scheduled(before, parts[-2], float(match.group(1)))
    return None


def _literal(parts: list[list[Node]], seps: list[str], closed: bool) -> list[Node]:
    """Brackets that schedule nothing stay text (emphasis, or ``[x:y]`` with no number)."""
    out: list[Node] = ["["]
    for i, part in enumerate(parts):
        out.extend(part)
        if i < len(seps):
            out.append(seps[i])
    return [*out, "]"] if closed else out


def _when(node: Scheduled, steps: int) -> int:
    value = node.when * steps if node.when < 1 else node.when
    return min(steps, int(value))


def _boundaries(nodes: list[Node], steps: int) -> set[int]:
    found: set[int] = set()
    for node in _walk(nodes):
        if isinstance(node, Scheduled) and _when(node, steps) >= 1:
            found.add(_when(node, steps))
        elif isinstance(node, Alternate):
            found.update(range(1, steps + 1))
    return found


def _walk(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        if isinstance(node, Scheduled):
            out.extend(_walk(node.before) + _walk(node.after))
        elif isinstance(node, Alternate):
            for option in node.options:
                out.extend(_walk(option))
    return out


def render(nodes: list[Node], step: int, steps: int) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Scheduled):
            out.append(render(node.before if step <= _when(node, steps) else node.after, step, steps))
        else:
            out.append(render(node.options[(step - 1) % len(node.options)], step, steps))
    return "".join(out)
