"""A1111's prompt language, checked against examples worked out by hand."""

from __future__ import annotations

import pytest

from engine.jobs import LoraRef
from engine.prompts.parser import BREAK_PIECE, extract_loras, parse_prompt_attention

R = 1.1
S = 1 / 1.1


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a cat", [("a cat", 1.0)]),
        ("a (cat) sits", [("a ", 1.0), ("cat", R), (" sits", 1.0)]),
        ("((cat))", [("cat", R * R)]),
        ("(((cat)))", [("cat", R * R * R)]),
        ("[cat]", [("cat", S)]),
        ("[[cat]]", [("cat", S * S)]),
        ("(cat:1.3)", [("cat", 1.3)]),
        ("(cat: 0.5 )", [("cat", 0.5)]),
        ("(a (b:1.5) c:0.5)", [("a ", 0.5), ("b", 0.75), (" c", 0.5)]),
        ("([a] b)", [("a", R * S), (" b", R)]),
        (r"\(cat\)", [("(cat)", 1.0)]),
        (r"a \[b\] c\\d", [("a [b] c\\d", 1.0)]),
        ("(cat", [("cat", R)]),  # left open: still applies
        ("[cat", [("cat", S)]),
        ("a ) b ] c", [("a ) b ] c", 1.0)]),  # stray closers are text
        ("(cat:dog)", [("cat:dog", R)]),  # not a number: the colon is text
        ("a:1.2)", [("a:1.2)", 1.0)]),  # weight with no open bracket: text
        ("", [("", 1.0)]),
    ],
)
def test_emphasis(prompt: str, expected: list[tuple[str, float]]) -> None:
    got = parse_prompt_attention(prompt)
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert [w for _, w in got] == pytest.approx([w for _, w in expected])


def test_break_starts_a_new_piece_and_needs_a_whole_upper_case_word() -> None:
    assert parse_prompt_attention("a cat BREAK a dog") == [("a cat", 1.0), BREAK_PIECE, ("a dog", 1.0)]
    inside = parse_prompt_attention("(red BREAK blue)")[1]  # A1111 weighs it too: no break, the word at -1.1
    assert inside[0] == "BREAK" and inside[1] == pytest.approx(-1.1) and inside != BREAK_PIECE
    assert parse_prompt_attention("BREAKING news break") == [("BREAKING news break", 1.0)]


def test_same_weights_are_merged() -> None:
    assert parse_prompt_attention("(a)(b) c") == [("ab", pytest.approx(R)), (" c", 1.0)]


def test_lora_tags_are_removed_and_returned() -> None:
    clean, loras = extract_loras("a cat <lora:add_detail:0.8>, <lora:Style One> <LORA:x:-1.5:0.2>")
    assert clean == "a cat ,  "
    assert loras == [LoraRef("add_detail", 0.8), LoraRef("Style One", 1.0), LoraRef("x", -1.5)]


def test_other_tags_and_named_weights() -> None:
    clean, loras = extract_loras("<hypernet:h:1> <lora:n:te=0.4>")
    assert clean == "<hypernet:h:1> "
    assert loras == [LoraRef("n", 0.4)]
