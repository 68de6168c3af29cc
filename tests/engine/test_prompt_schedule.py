"""Prompt editing [from:to:when] and alternation [a|b], worked by hand, and in generation."""

from __future__ import annotations

import numpy as np
import pytest

from engine.generation.generate import generate
from engine.jobs import GenParams
from engine.prompts.schedule import has_schedule, prompt_schedule, text_at
from tests.engine.test_generate import Control
from tests.engine.tinypipe import shared_model


@pytest.mark.parametrize(
    ("prompt", "steps", "expected"),
    [
        ("a [cat:dog:10] x", 20, [(10, "a cat x"), (20, "a dog x")]),
        ("[cat:dog:0.25]", 20, [(5, "cat"), (20, "dog")]),  # below 1: a fraction of the steps
        ("[cat::5] [dog:5]", 20, [(5, "cat "), (20, " dog")]),  # removed / added at step 5
        ("[a|b|c] x", 4, [(1, "a x"), (2, "b x"), (3, "c x"), (4, "a x")]),
        ("[[cat:dog:5]] (x:1.2)", 20, [(5, "[cat] (x:1.2)"), (20, "[dog] (x:1.2)")]),
        ("[(cat:1.2):dog:3]", 20, [(3, "(cat:1.2)"), (20, "dog")]),
        ("[a:b:30]", 20, [(20, "a")]),  # past the last step: never switches
        ("[a:b:0]", 20, [(20, "b")]),
        ("[a:b:c]", 20, [(20, "[a:b:c]")]),  # no number: emphasis text
        ("[unclosed:2", 20, [(20, "[unclosed:2")]),
        ("plain (a:1.1) [b]", 20, [(20, "plain (a:1.1) [b]")]),
        (r"\[a:b:2\]", 20, [(20, r"\[a:b:2\]")]),
    ],
)
def test_schedules(prompt: str, steps: int, expected: list[tuple[int, str]]) -> None:
    assert prompt_schedule(prompt, steps) == expected


def test_step_lookup_and_detection() -> None:
    schedule = prompt_schedule("[cat:dog:2]", 4)
    assert [text_at(schedule, i) for i in range(4)] == ["cat", "cat", "cat", "dog"]
    assert has_schedule("[a|b]") and has_schedule("x [a:b:3]")
    assert not has_schedule("[a] (b:1.2) [c:d]")


def run(prompt: str, **changes) -> np.ndarray:
    params = GenParams(prompt=prompt, seed=4, steps=4, width=32, height=32, sampler_name="Euler", **changes)
    return np.asarray(generate(shared_model(), params, Control()).images[0]).astype(int)


def test_prompt_editing_switches_during_sampling() -> None:
    cat, dog = run("a cat"), run("a dog")
    assert np.array_equal(run("a [cat:dog:4]"), cat)  # step indices 0..3 all <= 4
    assert np.array_equal(run("a [cat:dog:0]"), dog)
    switched = run("a [cat:dog:1]")
    assert not np.array_equal(switched, cat) and not np.array_equal(switched, dog)


def test_negative_prompt_editing_and_alternation_run() -> None:
    plain = run("a cat", negative_prompt="ugly")
    assert not np.array_equal(run("a cat", negative_prompt="[ugly:blurry photo of a dog:1]"), plain)
    assert not np.array_equal(run("a [cat|dog]"), run("a cat"))


def test_texts_of_different_lengths_are_padded_to_the_same_chunks() -> None:
    long = " ".join(["cat"] * 80)  # two chunks
    assert run(f"[a dog:{long}:1]").shape == (32, 32, 3)
