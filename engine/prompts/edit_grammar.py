"""Prompt editing and alternation exactly as A1111 reads them, malformed prompts included.

A1111 parses a prompt with a grammar in which, at the outermost level, text, single brackets and
colons may stand anywhere, while inside a bracket only well-formed constructs may: ``(x)``,
``(x:y)``, ``[x]``, ``[x:y:N]`` / ``[y:N]`` (prompt editing, ``N`` a number that may have spaces
around it) and ``[x|y|...]`` (alternation, options may be empty). A ``|`` outside an alternation,
or a backslash at the very end or before a line break, makes the grammar reject the whole prompt,
and A1111 then takes the prompt literally: no editing, no alternation. A bracket that is not
well formed is kept as text and the prompt goes on from the next character.

When to switch (A1111 1.6+): a number with a ``.`` is a fraction of the steps (``0.5``, ``1.0``
is the end), one without is a step (``10``); for the second pass of hires fix, fractions count
from 1.0 and steps from the first pass's step count. The schedule is
``[(end_step, text), ...]``: at sampling step ``i`` (0-based) the first entry with ``i <= end_step``
applies. Nesting is bounded by ``parser.check_nesting`` before anything recurses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.prompts.parser import check_nesting

NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*$")


@dataclass
class Edit:
    before: list[Node] | None
    after: list[Node]
    number: str  # as written: a ``.`` in it makes it a fraction of the steps


@dataclass
class Alternation:
    options: list[list[Node]]


Node = str | Edit | Alternation | list["Node"]


@dataclass(frozen=True)
class Timeline:
    """The steps a schedule counts: the pass's steps and, for a hires pass, the first pass's."""

    steps: int
    first_pass_steps: int | None = None

    def switch_at(self, number: str) -> int:
        value = float(number)
        hires = self.first_pass_steps is not None
        if "." in number:
            value = (value - (1.0 if hires else 0.0)) * self.steps
        else:
            value = value - (self.first_pass_steps or 0)
        return min(self.steps, int(value))


def parse(text: str) -> list[Node] | None:
    """The prompt's constructs, or None where A1111's grammar rejects the prompt."""
    check_nesting(text)
    if _bad_backslash(text):
        return None
    nodes: list[Node] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            nodes.append(text[pos : pos + 2])
            pos += 2
            continue
        if char in "([":
            found, end = _construct(text, pos)
            if found is not None:
                nodes.append(found)
                pos = end
                continue
        if char == "|":
            return None  # only an alternation may hold one
        nodes.append(char)
        pos += 1
    return nodes


def schedule(prompt: str, timeline: Timeline) -> list[tuple[int, str]]:
    """``[(end_step, text), ...]`` for the pass; a prompt A1111 rejects is one literal entry."""
    tree = parse(prompt)
    if tree is None:
        return [(timeline.steps, prompt)]
    out: list[tuple[int, str]] = []
    for step in sorted(_switches(tree, timeline)):
        text = render(tree, step, timeline)
        if out and out[-1][1] == text:
            out[-1] = (step, text)
        else:
            out.append((step, text))
    return out


def has_constructs(prompt: str) -> bool:
    """True when the prompt edits or alternates anything (as A1111 parses it)."""
    tree = parse(prompt)
    return tree is not None and any(isinstance(n, Edit | Alternation) for n in _walk(tree))


def render(nodes: list[Node], step: int, timeline: Timeline) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, list):
            out.append(render(node, step, timeline))
        elif isinstance(node, Edit):
            chosen = (node.before or []) if step <= timeline.switch_at(node.number) else node.after
            out.append(render(chosen, step, timeline))
        else:
            out.append(render(node.options[(step - 1) % len(node.options)], step, timeline))
    return "".join(out)


def _bad_backslash(text: str) -> bool:
    return any(c == "\\" and (i + 1 == len(text) or text[i + 1] == "\n") for i, c in enumerate(text)
               if _odd_run(text, i))


def _odd_run(text: str, index: int) -> bool:
    """The backslash at ``index`` starts an escape (it is not itself escaped)."""
    run = 0
    while index - run - 1 >= 0 and text[index - run - 1] == "\\":
        run += 1
    return run % 2 == 0


def _construct(text: str, pos: int) -> tuple[Node | None, int]:
    """A well-formed bracket construct starting at ``pos``, and where it ends; (None, pos) if none."""
    closer = "]" if text[pos] == "[" else ")"
    parts: list[list[Node]] = []
    separators: list[str] = []
    cursor = pos + 1
    while True:
        part, cursor = _inner(text, cursor)
        if part is None or cursor >= len(text):
            return None, pos
        parts.append(part)
        char = text[cursor]
        cursor += 1
        if char == closer:
            break
        if char not in ":|":
            return None, pos  # the other kind of closing bracket
        separators.append(char)
    node = _square(parts, separators) if closer == "]" else _round(parts, separators)
    return (node, cursor) if node is not None else (None, pos)


def _inner(text: str, pos: int) -> tuple[list[Node] | None, int]:
    """Text inside a bracket up to a separator or closing bracket; None if a bracket in it is malformed."""
    nodes: list[Node] = []
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            nodes.append(text[pos : pos + 2])
            pos += 2
        elif char in "([":
            found, end = _construct(text, pos)
            if found is None:
                return None, pos
            nodes.append(found)
            pos = end
        elif char in ")]:|":
            break
        else:
            nodes.append(char)
            pos += 1
    return nodes, pos


def _square(parts: list[list[Node]], separators: list[str]) -> Node | None:
    if not separators:
        return ["[", *parts[0], "]"]
    if all(s == "|" for s in separators):
        return Alternation(parts)
    if all(s == ":" for s in separators) and len(parts) in (2, 3):
        last = parts[-1]
        words = [n for n in last if isinstance(n, str)]
        match = NUMBER.match("".join(words)) if len(words) == len(last) else None
        if match is not None:
            return Edit(parts[0] if len(parts) == 3 else None, parts[-2], match.group(1))
    return None


def _round(parts: list[list[Node]], separators: list[str]) -> Node | None:
    if not separators:
        return ["(", *parts[0], ")"]
    if separators == [":"]:
        return ["(", *parts[0], ":", *parts[1], ")"]
    return None


def _switches(tree: list[Node], timeline: Timeline) -> set[int]:
    found = {timeline.steps}
    for node in _walk(tree):
        if isinstance(node, Edit):
            at = timeline.switch_at(node.number)
            if at >= 1:
                found.add(at)
        elif isinstance(node, Alternation):
            found.update(range(1, timeline.steps + 1))
    return found


def _walk(nodes: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        if isinstance(node, list):
            out.extend(_walk(node))
        elif isinstance(node, Edit):
            out.extend(_walk(node.before or []) + _walk(node.after))
        elif isinstance(node, Alternation):
            for option in node.options:
                out.extend(_walk(option))
    return out
