"""Textual-inversion embeddings in prompts: which words are embeddings, and their token rows.

A prompt word equal to an embedding's name (its file name without extension) stands for the
embedding's vectors. Names are matched the way A1111 matches them: the name is tokenized, and
wherever that token sequence appears in a piece of the prompt it is replaced by one placeholder
token per vector (so a 16-vector embedding takes 16 of a chunk's 75 tokens). When the prompt is
encoded, the token-embedding layer's output rows at those places are replaced by the vectors,
before the positions are added and the transformer runs. A name that matches nothing stays text.

``EmbeddingSet`` holds the embeddings that fit one loaded model (the vector width of each of its
text encoders) and the ones skipped because they do not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PLACEHOLDER = 0  # the token id standing for an embedding's vectors until their rows are replaced
SINGLE = ""  # the vectors' key for SD1/SD2 (one text encoder)
Fix = tuple[int, "Embedding"]  # (row in the 77-token chunk, embedding)


@dataclass(frozen=True, eq=False)
class Embedding:
    """One loaded embedding: its name, vectors per text encoder key, file and hash."""

    name: str
    vectors: Mapping[str, Any] = field(repr=False)  # "" or "clip_l"/"clip_g" -> (count, width) float32
    path: Path = field(default=Path(), repr=False)
    short_hash: str = ""  # A1111's: the first 12 hex of the file's sha256
    step: int | None = None
    sd_checkpoint: str | None = None
    sd_checkpoint_name: str | None = None

    @property
    def count(self) -> int:
        """The number of vectors (tokens) the embedding takes in a prompt."""
        return int(next(iter(self.vectors.values())).shape[0])

    @property
    def shape(self) -> int:
        """A1111's ``shape``: the vector width, both encoders' together for SDXL."""
        return sum(int(v.shape[-1]) for v in self.vectors.values())

    def widths(self) -> dict[str, int]:
        return {key: int(v.shape[-1]) for key, v in self.vectors.items()}

    def describe(self) -> dict[str, Any]:
        """A1111's ``/sdapi/v1/embeddings`` entry."""
        return {"step": self.step, "sd_checkpoint": self.sd_checkpoint,
                "sd_checkpoint_name": self.sd_checkpoint_name, "shape": self.shape, "vectors": self.count}


def model_widths(pipe: Any) -> dict[str, int]:
    """The vector width each text encoder of ``pipe`` takes, by embedding key."""
    first, second = getattr(pipe, "text_encoder", None), getattr(pipe, "text_encoder_2", None)
    if second is None:
        return {SINGLE: int(first.config.hidden_size)} if first is not None else {}
    widths = {"clip_g": int(second.config.hidden_size)}
    if first is not None:
        widths["clip_l"] = int(first.config.hidden_size)
    return widths


def fits(embedding: Embedding, widths: Mapping[str, int]) -> bool:
    """True when the embedding has vectors of the right width for every text encoder."""
    own = embedding.widths()
    return bool(widths) and all(own.get(key) == width for key, width in widths.items())


class EmbeddingSet:
    """The embeddings a model can use (by name) and those skipped for their width."""

    def __init__(self, loaded: Mapping[str, Embedding], skipped: Mapping[str, Embedding] | None = None) -> None:
        self.loaded = dict(sorted(loaded.items(), key=lambda kv: kv[0].lower()))
        self.skipped = dict(sorted((skipped or {}).items(), key=lambda kv: kv[0].lower()))
        self._lookups: dict[int, tuple[Any, dict[int, list[tuple[list[int], Embedding]]]]] = {}

    def __len__(self) -> int:
        return len(self.loaded)

    def find_at(self, tokenizer: Any, tokens: list[int], position: int) -> tuple[Embedding, int] | None:
        """The embedding whose name's tokens start at ``position`` (longest first), and their count."""
        candidates = self._lookup(tokenizer).get(tokens[position])
        for ids, embedding in candidates or ():
            if tokens[position:position + len(ids)] == ids:
                return embedding, len(ids)
        return None

    def _lookup(self, tokenizer: Any) -> dict[int, list[tuple[list[int], Embedding]]]:
        cached = self._lookups.get(id(tokenizer))
        if cached is not None and cached[0] is tokenizer:
            return cached[1]
        table: dict[int, list[tuple[list[int], Embedding]]] = {}
        names = list(self.loaded)
        encoded = tokenizer(names, add_special_tokens=False)["input_ids"] if names else []
        for name, ids in zip(names, encoded, strict=True):
            if ids:
                table.setdefault(ids[0], []).append((list(ids), self.loaded[name]))
        for entries in table.values():
            entries.sort(key=lambda entry: len(entry[0]), reverse=True)
        self._lookups[id(tokenizer)] = (tokenizer, table)
        return table


EMPTY = EmbeddingSet({})


@contextmanager
def embedding_rows(text_encoder: Any, fixes: list[Fix], key: str = SINGLE) -> Iterator[None]:
    """While encoding one chunk: put each embedding's vectors in its rows of the token embeddings."""
    if not fixes:
        yield
        return

    def replace(_module: Any, _inputs: Any, output: Any) -> Any:
        rows = output.clone()
        for offset, embedding in fixes:
            vectors = embedding.vectors[key].to(rows.device, rows.dtype)
            count = min(int(vectors.shape[0]), int(rows.shape[1]) - offset - 1)
            rows[:, offset:offset + count] = vectors[:count]
        return rows

    handle = text_encoder.get_input_embeddings().register_forward_hook(replace)
    try:
        yield
    finally:
        handle.remove()


def ti_hashes(used: list[Embedding]) -> str | None:
    """The infotext's ``TI hashes`` value: ``name: hash`` of each embedding used, once each."""
    seen: dict[str, str] = {}
    for embedding in used:
        if embedding.short_hash and embedding.name not in seen:
            seen[embedding.name] = embedding.short_hash
    parts = [f"{name.replace(':', '').replace(',', '')}: {short}" for name, short in seen.items()]
    return ", ".join(parts) or None
