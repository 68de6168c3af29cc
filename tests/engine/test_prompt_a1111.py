"""Prompts as A1111 reads them, malformed ones included, compared with a reference model.

The reference is written here from A1111's prompt parser (its scheduling grammar and its emphasis
tokenizer): an exhaustive recogniser of the grammar and a direct model of the emphasis rules, in
another shape than Maple's code. Thousands of random prompts made of the characters that matter
(brackets, colons, bars, backslashes, numbers, BREAK) must give the same text at every step and the
same weighted pieces.
"""

from __future__ import annotations

import math
import random
import re
from functools import cache

import pytest

from engine.prompts.parser import BREAK_PIECE, parse_prompt_attention
from engine.prompts.schedule import prompt_schedule, text_at

STEPS = 10
NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*\Z")


# --- the scheduling grammar: constructs inside brackets, raw brackets only at the outermost level ---
class Grammar:
    """All parses of ``text``; an item is ("text", s) | ("edit", before, after, number) | ("alt", options)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def plain_at(self, i: int) -> int | None:
        """End of one plain unit at ``i`` (a character, or a backslash and the one after it)."""
        t = self.text
        if i >= len(t) or t[i] in "[]():|":
            return None
        if t[i] == "\\":
            return i + 2 if i + 1 < len(t) and t[i + 1] != "\n" else None
        return i + 1

    @cache  # noqa: B019 - one Grammar per prompt
    def prompts(self, i: int) -> tuple[tuple[int, tuple], ...]:
        """Every (end, items) a nested prompt starting at ``i`` can span (the empty one included)."""
        out: list[tuple[int, tuple]] = [(i, ())]
        for mid, first in self.units(i):
            for end, rest in self.prompts(mid):
                out.append((end, (first, *rest)))
        return tuple(out)

    @cache  # noqa: B019 - one Grammar per prompt
    def units(self, i: int) -> tuple[tuple[int, tuple], ...]:
        found: list[tuple[int, tuple]] = []
        end = self.plain_at(i)
        if end is not None:
            found.append((end, ("text", self.text[i:end])))
        if i < len(self.text) and self.text[i] in "([":
            found.extend(self.constructs(i))
        return tuple(found)

    def constructs(self, i: int) -> list[tuple[int, tuple]]:
        """The constructs a bracket at ``i`` can be: (end, item)."""
        t, out = self.text, []
        for parts, end in self.separated(i + 1, "]" if t[i] == "[" else ")"):
            bodies = [body for body, _ in parts]
            seps = [sep for _, sep in parts[:-1]]
            if t[i] == "(":
                if len(bodies) <= 2 and all(s == ":" for s in seps):
                    out.append((end, ("group", ("text", "("), *self.join(bodies, ":"), ("text", ")"))))
            elif len(bodies) == 1:
                out.append((end, ("group", ("text", "["), *bodies[0], ("text", "]"))))
            elif all(s == "|" for s in seps):
                out.append((end, ("alt", tuple(bodies))))
            elif len(bodies) in (2, 3) and all(s == ":" for s in seps) and all(x[0] == "text" for x in bodies[-1]):
                last = "".join(x[1] for x in bodies[-1])
                if NUMBER.match(last):
                    out.append((end, ("edit", bodies[0] if len(bodies) == 3 else None, bodies[-2], last.strip())))
        return out

    def join(self, bodies: list[tuple], sep: str) -> tuple:
        items: list = []
        for n, body in enumerate(bodies):
            if n:
                items.append(("text", sep))
            items.extend(body)
        return tuple(items)

    def separated(self, i: int, closer: str) -> list[tuple[list[tuple[tuple, str]], int]]:
        """(bodies with the separator after each, end after ``closer``) for a bracket's inside."""
        out = []
        for end, body in self.prompts(i):
            if end < len(self.text) and self.text[end] == closer:
                out.append(([(body, closer)], end + 1))
            if end < len(self.text) and self.text[end] in ":|":
                for parts, final in self.separated(end + 1, closer):
                    out.append(([(body, self.text[end])] + parts, final))
        return out

    @cache  # noqa: B019 - one Grammar per prompt
    def top(self, i: int) -> tuple | None:
        """The outermost level from ``i``: constructs where they fit (A1111's doctests: ``a [b:3]`` edits),
        else raw brackets and colons; None where nothing parses."""
        if i == len(self.text):
            return ()
        for end, item in sorted(self.units(i), key=lambda u: -u[0]):
            rest = self.top(end)
            if rest is not None:
                return (item, *rest)
        if self.text[i] in "[]():":
            rest = self.top(i + 1)
            if rest is not None:
                return (("text", self.text[i]), *rest)
        return None


def when(number: str) -> int:
    value = float(number) * STEPS if "." in number else float(number)
    return min(STEPS, int(value))


def render(items: tuple, step: int) -> str:
    out = []
    for item in items:
        kind = item[0]
        if kind == "text":
            out.append(item[1])
        elif kind == "group":
            out.append(render(item[1:], step))
        elif kind == "edit":
            out.append(render(item[1] or (), step) if step <= when(item[3]) else render(item[2], step))
        else:
            options = item[1]
            out.append(render(options[(step - 1) % len(options)], step))
    return "".join(out)


def constructs_in(items: tuple) -> list[tuple]:
    found = []
    for item in items:
        if item[0] == "group":
            found += constructs_in(item[1:])
        elif item[0] == "edit":
            found += [item, *constructs_in(item[1] or ()), *constructs_in(item[2])]
        elif item[0] == "alt":
            found.append(item)
            for option in item[1]:
                found += constructs_in(option)
    return found


def reference_schedule(prompt: str) -> list[tuple[int, str]]:
    tree = Grammar(prompt).top(0)
    if tree is None:
        return [(STEPS, prompt)]  # A1111: the grammar fails, the prompt is taken literally
    switches = {STEPS}
    for item in constructs_in(tree):
        if item[0] == "alt":
            switches.update(range(1, STEPS + 1))
        elif when(item[3]) >= 1:
            switches.add(when(item[3]))
    return [(t, render(tree, t)) for t in sorted(switches)]


# --- emphasis: A1111's tokens and rules ------------------------------------------------------------
TOKEN = re.compile(r"\\[()\[\]\\]|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()\[\]:]+|:")


def reference_attention(text: str) -> list[tuple[str, float]] | None:
    """None where A1111 itself fails (a weight such as ``1.2.3`` that is no number)."""
    pieces: list[list] = []
    rounds: list[int] = []
    squares: list[int] = []
    for m in TOKEN.finditer(text):
        token, weight = m.group(0), m.group(1)
        if token.startswith("\\"):
            pieces.append([token[1:], 1.0])
        elif token in "([" and len(token) == 1:
            (rounds if token == "(" else squares).append(len(pieces))
        elif weight is not None and rounds:
            try:
                factor = float(weight)
            except ValueError:
                return None
            for p in pieces[rounds.pop():]:
                p[1] *= factor
        elif token == ")" and rounds:
            for p in pieces[rounds.pop():]:
                p[1] *= 1.1
        elif token == "]" and squares:
            for p in pieces[squares.pop():]:
                p[1] /= 1.1
        else:
            for n, part in enumerate(re.split(r"\s*\bBREAK\b\s*", token)):
                if n:
                    pieces.append(["BREAK", -1.0])
                pieces.append([part, 1.0])
    for start in rounds:
        for p in pieces[start:]:
            p[1] *= 1.1
    for start in squares:
        for p in pieces[start:]:
            p[1] /= 1.1
    merged: list[list] = []
    for text_, weight in pieces:
        if merged and merged[-1][1] == weight and [text_, weight] != ["BREAK", -1.0] and merged[-1] != ["BREAK", -1.0]:
            merged[-1][0] += text_
        else:
            merged.append([text_, weight])
    return [(t, w) for t, w in merged if t]


def normalised(pieces: list[tuple[str, float]]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for text, weight in pieces:
        if not text:
            continue
        if out and math.isclose(out[-1][1], weight, rel_tol=1e-9) and (text, weight) != BREAK_PIECE \
                and out[-1] != BREAK_PIECE:
            out[-1] = (out[-1][0] + text, weight)
        else:
            out.append((text, weight))
    return out


ALPHABET = ["a", "b", " ", "[", "]", "(", ")", ":", "|", "\\", "1", "3", ".5", "1.0", "2e0", "BREAK ", "-1",
            "\\(", "\\\\", ":0.5)", "x y"]


FRAGMENTS = ["[a:b:3]", "[x|y]", "[c:.5]", "[d::2]", "(e:1.2)", "[f|]", "[g:1.0]", "[h:2e0]", "[[i:j:4]:5]",
             "[k:(l:2):6]", " ", "|", "\\", ":", ")", "]", "[", "(", "m", "BREAK", "\\[", "[n|o:1]"]


def random_prompts(count: int, seed: int) -> list[str]:
    """Half from single characters and short tokens, half from whole constructs mixed with stray ones."""
    rng = random.Random(seed)
    parts = [ALPHABET if n % 2 else FRAGMENTS for n in range(count)]
    return ["".join(rng.choice(p) for _ in range(rng.randint(1, 8))) for p in parts]


DOCUMENTED = ["a [b:3]", "a [b: 3]", "a [[[b]]:2]", "[(a:2):3]", "a [b : c : 1] d", "a[b:[c:d:2]:1]e",
              "a [unbalanced", "a [b:.5] c", "((a][:b:c [d:3]", "[a|(b:1.1)]", "[fe|]male", "[fe|||]male",
              "a [b:1.0] c", "a | b [c:2]", "ends with a backslash \\", "[a):b:3]", "[a|b:1]", "x [a:b:1e0]"]


@pytest.mark.parametrize("prompt", DOCUMENTED)
def test_documented_and_tricky_prompts_schedule_as_a1111(prompt: str) -> None:
    ours, theirs = prompt_schedule(prompt, STEPS), reference_schedule(prompt)
    assert [text_at(ours, i) for i in range(STEPS)] == [text_at(theirs, i) for i in range(STEPS)]


def test_known_answers() -> None:
    assert prompt_schedule("a [b:3]", STEPS) == [(3, "a "), (10, "a b")]
    assert prompt_schedule("a[b:[c:d:2]:1]e", STEPS) == [(1, "abe"), (2, "ace"), (10, "ade")]
    assert prompt_schedule("a [b:1.0] c", STEPS) == [(10, "a  c")]  # "1.0" is the whole run, not step 1
    assert prompt_schedule("cat | dog [a:b:2]", STEPS) == [(10, "cat | dog [a:b:2]")]  # rejected: literal
    assert prompt_schedule("[a):b:3]", STEPS) == [(10, "[a):b:3]")]  # ")" cannot stand inside a bracket
    assert prompt_schedule("a [b:.5] c", 10, first_pass_steps=10) == [(10, "a b c")]  # hires: from 1.0
    assert prompt_schedule("a [b:1.5] c", 10, first_pass_steps=10) == [(5, "a  c"), (10, "a b c")]


def test_random_malformed_prompts_schedule_as_a1111() -> None:
    mismatches = []
    for prompt in random_prompts(3000, seed=11):
        ours, theirs = prompt_schedule(prompt, STEPS), reference_schedule(prompt)
        if [text_at(ours, i) for i in range(STEPS)] != [text_at(theirs, i) for i in range(STEPS)]:
            mismatches.append(prompt)
    assert mismatches == []


def test_random_malformed_prompts_weigh_as_a1111() -> None:
    mismatches, checked = [], 0
    for prompt in random_prompts(3000, seed=12):
        theirs = reference_attention(prompt)
        if theirs is None:
            continue  # A1111 fails on this one
        checked += 1
        ours, theirs = normalised(parse_prompt_attention(prompt)), normalised(theirs)
        same = len(ours) == len(theirs) and all(a[0] == b[0] and math.isclose(a[1], b[1], rel_tol=1e-9)
                                                for a, b in zip(ours, theirs, strict=True))
        if not same:
            mismatches.append(prompt)
    assert checked > 2500 and mismatches == []


def test_lone_backslash_is_dropped_and_break_in_brackets_is_a_word() -> None:
    assert parse_prompt_attention("a \\ b") == [("a  b", 1.0)]
    assert parse_prompt_attention("end\\") == [("end", 1.0)]
    pieces = parse_prompt_attention("x [BREAK] y")
    assert ("BREAK", pytest.approx(-1 / 1.1)) in pieces and BREAK_PIECE not in pieces
