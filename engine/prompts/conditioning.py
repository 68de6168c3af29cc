"""Prompt -> text embeddings the way A1111 builds them.

The prompt is parsed (emphasis, BREAK), tokenized piece by piece, cut into 75-token chunks (a
chunk that fills up within 20 tokens after a comma moves those tokens to the next chunk), each
chunk wrapped to 77 with start/end tokens and padded, encoded separately, weighted by multiplying
each token's embedding and restoring the chunk's mean, and the chunks concatenated. Clip skip
uses ``hidden_states[-clip_skip]`` followed by the final layer norm. SDXL uses both encoders'
penultimate layers side by side and the second encoder's pooled output of the first chunk.
Textual-inversion embeddings (``engine.prompts.embeddings``) take one token per vector in their
chunk and are weighted like any token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.prompts.embeddings import (
    PLACEHOLDER,
    SINGLE,
    Embedding,
    EmbeddingSet,
    Fix,
    embedding_rows,
)
from engine.prompts.parser import BREAK_PIECE, extract_loras, parse_prompt_attention

CHUNK = 75
COMMA_BACKTRACK = 20


@dataclass
class Chunk:
    tokens: list[int] = field(default_factory=list)
    multipliers: list[float] = field(default_factory=list)
    fixes: list[Fix] = field(default_factory=list)  # embeddings: (row in the 77, embedding)


@dataclass(frozen=True)
class _Ids:
    start: int
    end: int
    pad: int
    comma: int | None


_IDS: dict[int, tuple[Any, _Ids]] = {}


def _ids(tokenizer: Any) -> _Ids:
    cached = _IDS.get(id(tokenizer))
    if cached is not None and cached[0] is tokenizer:
        return cached[1]
    end = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else end
    comma = tokenizer.convert_tokens_to_ids(",</w>")
    comma = comma if comma != tokenizer.unk_token_id else None
    ids = _Ids(tokenizer.bos_token_id, end, pad, comma)
    _IDS[id(tokenizer)] = (tokenizer, ids)
    return ids


class _Chunker:
    """Builds 77-token chunks; ``count`` is A1111's token count (full chunks count 75)."""

    def __init__(self, ids: _Ids) -> None:
        self.ids = ids
        self.chunks: list[Chunk] = []
        self.current = Chunk()
        self.count = 0
        self.last_comma = -1

    def close(self, last: bool = False) -> None:
        chunk, ids = self.current, self.ids
        self.count += len(chunk.tokens) if last else CHUNK
        missing = CHUNK - len(chunk.tokens)
        # SD1 pads with the end token; SD2's tokenizer pads with its own token after one end token
        chunk.tokens = [ids.start] + chunk.tokens + [ids.end] + [ids.pad] * missing
        chunk.multipliers = [1.0] + chunk.multipliers + [1.0] * (missing + 1)
        self.chunks.append(chunk)
        self.current, self.last_comma = Chunk(), -1

    def add(self, token: int, weight: float) -> None:
        self._make_room(token)
        self.current.tokens.append(token)
        self.current.multipliers.append(weight)

    def add_embedding(self, embedding: Embedding, weight: float, first_token: int) -> None:
        """An embedding's vectors as placeholder tokens; one that does not fit starts a new chunk."""
        self._make_room(first_token)
        count = min(embedding.count, CHUNK)
        if len(self.current.tokens) + count > CHUNK:
            self.close()
        chunk = self.current
        chunk.fixes.append((len(chunk.tokens) + 1, embedding))  # + 1: the start token
        chunk.tokens.extend([PLACEHOLDER] * count)
        chunk.multipliers.extend([weight] * count)

    def _make_room(self, token: int) -> None:
        chunk = self.current
        if token == self.ids.comma:
            self.last_comma = len(chunk.tokens)
        elif len(chunk.tokens) == CHUNK and self.last_comma != -1 \
                and len(chunk.tokens) - self.last_comma <= COMMA_BACKTRACK:
            cut = self.last_comma + 1
            moved = chunk.tokens[cut:], chunk.multipliers[cut:]
            fixes = [(row - cut, e) for row, e in chunk.fixes if row > cut]
            chunk.fixes = [(row, e) for row, e in chunk.fixes if row <= cut]
            del chunk.tokens[cut:], chunk.multipliers[cut:]
            self.close()
            self.current.tokens, self.current.multipliers = list(moved[0]), list(moved[1])
            self.current.fixes = fixes
        if len(self.current.tokens) == CHUNK:
            self.close()


def tokenize_chunks(tokenizer: Any, prompt: str, embeddings: EmbeddingSet | None = None
                    ) -> tuple[list[Chunk], int]:
    """A prompt (LoRA tags already removed) -> its 77-token chunks and A1111's token count.

    With ``embeddings``, an embedding's name in the text becomes one placeholder per vector.
    """
    pieces = parse_prompt_attention(prompt)
    texts = [text for text, _ in pieces]
    tokenized = tokenizer(texts, truncation=False, add_special_tokens=False)["input_ids"]
    chunker = _Chunker(_ids(tokenizer))
    for tokens, piece in zip(tokenized, pieces, strict=True):
        if piece == BREAK_PIECE:
            chunker.close()
            continue
        _add_piece(chunker, tokenizer, tokens, piece[1], embeddings)
    if chunker.current.tokens or not chunker.chunks:
        chunker.close(last=True)
    return chunker.chunks, chunker.count


def _add_piece(chunker: _Chunker, tokenizer: Any, tokens: list[int], weight: float,
               embeddings: EmbeddingSet | None) -> None:
    position = 0
    while position < len(tokens):
        found = embeddings.find_at(tokenizer, tokens, position) if embeddings else None
        if found is None:
            chunker.add(tokens[position], weight)
            position += 1
        else:
            chunker.add_embedding(found[0], weight, tokens[position])
            position += found[1]


def token_count(tokenizer: Any, prompt: str, steps: int = 150,
                embeddings: EmbeddingSet | None = None) -> tuple[int, int]:
    """A1111's counter for the web page: (tokens, chunks); the limit shown is 75 * chunks.

    With prompt editing or alternation, the longest of the texts used at some step counts; an
    embedding counts one token per vector.
    """
    from engine.prompts.schedule import has_schedule, prompt_schedule

    clean, _ = extract_loras(prompt)
    texts = [t for _, t in prompt_schedule(clean, steps)] if has_schedule(clean) else [clean]
    counted = [tokenize_chunks(tokenizer, text, embeddings) for text in texts]
    chunks, count = max(counted, key=lambda pair: pair[1])
    return count, len(chunks)


def encode_chunk(text_encoder: Any, chunk: Chunk, clip_skip: int, device: Any,
                 layer: int | None = None, key: str = SINGLE) -> Any:
    """One chunk -> weighted embeddings (1, 77, width). ``layer`` picks a raw hidden state (SDXL).

    ``key`` picks which of an embedding's vector sets this encoder takes (``clip_l``/``clip_g``).
    """
    import torch

    tokens = torch.tensor([chunk.tokens], device=device)
    skip = max(1, min(clip_skip, text_encoder.config.num_hidden_layers))
    with embedding_rows(text_encoder, chunk.fixes, key):
        out = text_encoder(tokens, output_hidden_states=layer is not None or skip > 1)
    if layer is not None:
        z = out.hidden_states[layer]
    elif skip > 1:
        z = getattr(text_encoder, "text_model", text_encoder).final_layer_norm(out.hidden_states[-skip])
    else:
        z = out.last_hidden_state
    weights = torch.tensor(chunk.multipliers, device=device, dtype=z.dtype)
    return apply_weights(z, weights), getattr(out, "text_embeds", None)


def apply_weights(z: Any, weights: Any) -> Any:
    """Multiply each token's embedding by its weight, then restore the original mean (A1111).

    All-1 weights change nothing, so they are skipped; a mean of zero (seen only in random test
    models) skips the restoration rather than dividing by zero.
    """
    if bool((weights == 1).all()):
        return z
    mean = z.mean()
    weighted = z * weights.reshape(1, -1, 1)
    new_mean = weighted.mean()
    if not bool(new_mean.isfinite()) or float(new_mean.abs()) < 1e-12:
        return weighted
    return weighted * (mean / new_mean)
