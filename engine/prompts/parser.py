"""A1111's prompt language: emphasis, escapes, BREAK and ``<lora:NAME:WEIGHT>`` tags.

``parse_prompt_attention`` turns a prompt into ``(text, weight)`` pieces the way A1111 does:
``(x)`` multiplies by 1.1, ``[x]`` divides by 1.1, ``(x:1.3)`` sets a factor, brackets nest by
multiplying, ``\\(`` ``\\)`` ``\\[`` ``\\]`` ``\\\\`` are literal, any other backslash is dropped,
brackets left open at the end still apply, and a stray closing bracket is plain text. ``BREAK`` (a
whole word, upper case) becomes the ``BREAK_PIECE`` marker that starts a new 75-token chunk; inside
brackets it is weighed like the text around it, so it is the word at a negative weight, as in A1111.
"""

from __future__ import annotations

import re

from engine.jobs import LoraRef

Piece = tuple[str, float]
BREAK_PIECE: Piece = ("BREAK", -1.0)
ROUND = 1.1
SQUARE = 1 / 1.1
MAX_NESTING = 100  # brackets inside brackets; real prompts stay under 10
_OPENER = {")": "(", "]": "["}

_WEIGHT_CLOSE = re.compile(r":\s*([+-]?[.\d]+)\s*\)")
_PLAIN = re.compile(r"[^\\()\[\]:]+")
_BREAK = re.compile(r"\s*\bBREAK\b\s*")
_NETWORK_TAG = re.compile(r"<(lora|lyco):([^>]+)>", re.IGNORECASE)


def parse_prompt_attention(text: str) -> list[Piece]:
    """Split ``text`` into pieces with their attention weights (BREAK as ``BREAK_PIECE``)."""
    pieces: list[list] = []
    opened: list[tuple[str, int]] = []  # (bracket, index of the first piece inside it)
    pos = 0
    while pos < len(text):
        pos = _scan_one(text, pos, pieces, opened)
    for bracket, start in reversed(opened):
        _scale(pieces, start, ROUND if bracket == "(" else SQUARE)
    return _merge([(str(t), float(w)) for t, w in pieces]) or [("", 1.0)]


def _scan_one(text: str, pos: int, pieces: list[list], opened: list[tuple[str, int]]) -> int:
    """Consume one token of ``text`` at ``pos``; return the position after it."""
    char = text[pos]
    if char == "\\":
        literal = text[pos + 1 : pos + 2]
        if literal in ("(", ")", "[", "]", "\\"):
            pieces.append([literal, 1.0])
            return pos + 2
        return pos + 1  # a backslash that escapes nothing is dropped, as A1111 drops it
    if char in "([":
        opened.append((char, len(pieces)))
        return pos + 1
    if char == ":":
        return _scan_colon(text, pos, pieces, opened)
    if char in ")]":
        return _close(char, pos, pieces, opened)
    match = _PLAIN.match(text, pos)
    assert match is not None
    _add_text(match.group(0), pieces)
    return match.end()


def _scan_colon(text: str, pos: int, pieces: list[list], opened: list[tuple[str, int]]) -> int:
    match = _WEIGHT_CLOSE.match(text, pos)
    round_start = _innermost(opened, "(")
    if match is not None and round_start is not None:
        try:
            factor = float(match.group(1))
        except ValueError:
            factor = None
        if factor is not None:
            del opened[round_start[0]]
            _scale(pieces, round_start[1], factor)
            return match.end()
    pieces.append([":", 1.0])
    return pos + 1


def _close(char: str, pos: int, pieces: list[list], opened: list[tuple[str, int]]) -> int:
    found = _innermost(opened, "(" if char == ")" else "[")
    if found is None:
        pieces.append([char, 1.0])
    else:
        del opened[found[0]]
        _scale(pieces, found[1], ROUND if char == ")" else SQUARE)
    return pos + 1


def _innermost(opened: list[tuple[str, int]], bracket: str) -> tuple[int, int] | None:
    """(index in ``opened``, first piece) of the latest open bracket of this kind."""
    for index in range(len(opened) - 1, -1, -1):
        if opened[index][0] == bracket:
            return index, opened[index][1]
    return None


def _add_text(chunk: str, pieces: list[list]) -> None:
    for number, part in enumerate(_BREAK.split(chunk)):
        if number:
            pieces.append([BREAK_PIECE[0], BREAK_PIECE[1]])
        pieces.append([part, 1.0])


def _scale(pieces: list[list], start: int, factor: float) -> None:
    """Weigh every piece from ``start``: a BREAK inside brackets too, which then (as in A1111) is no
    longer a chunk break but the word "BREAK" at that (negative) weight."""
    for piece in pieces[start:]:
        piece[1] *= factor


def _merge(pieces: list[Piece]) -> list[Piece]:
    """Join neighbours with the same weight; drop empty text next to others."""
    merged: list[Piece] = []
    for text, weight in pieces:
        joinable = (text, weight) != BREAK_PIECE and merged and merged[-1] != BREAK_PIECE
        if joinable and merged[-1][1] == weight:
            merged[-1] = (merged[-1][0] + text, weight)
        else:
            merged.append((text, weight))
    return [p for p in merged if p[0] or len(merged) == 1]


def nesting_depth(text: str) -> int:
    """How deep ``(`` and ``[`` nest in ``text``: a bracket closes only its own kind, escaped ones
    do not count and unclosed ones do (the depth prompt editing's parser descends to)."""
    opened: list[str] = []
    deepest = 0
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "([":
            opened.append(char)
            deepest = max(deepest, len(opened))
        elif opened and opened[-1] == _OPENER.get(char):
            opened.pop()
    return deepest


def check_nesting(text: str, field: str = "prompt") -> None:
    """Refuse brackets nested deeper than ``MAX_NESTING`` with a 422 naming ``field``."""
    if not any(c in text for c in "(["):
        return
    depth = nesting_depth(text)
    if depth > MAX_NESTING:
        from engine.errors import BadRequestError

        raise BadRequestError.about(field, f"brackets nested {depth} deep; at most {MAX_NESTING}")


def extract_loras(prompt: str) -> tuple[str, list[LoraRef]]:
    """Remove ``<lora:NAME[:WEIGHT[:...]]>`` tags; return the clean prompt and the LoRAs asked for."""
    loras: list[LoraRef] = []

    def take(match: re.Match[str]) -> str:
        args = match.group(2).split(":")
        loras.append(LoraRef(name=args[0].strip(), weight=_weight(args[1:])))
        return ""

    return _NETWORK_TAG.sub(take, prompt), loras


def _weight(args: list[str]) -> float:
    for arg in args:
        value = arg.split("=", 1)[-1].strip()
        try:
            return float(value)
        except ValueError:
            continue
    return 1.0

