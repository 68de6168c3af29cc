"""Positive and negative prompt embeddings for a pipeline, padded to the same chunk count.

A1111 pads the shorter of the two with the embedding of the empty prompt (one chunk per missing
chunk). For SDXL an empty negative prompt becomes zeros, as A1111 does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.prompts.conditioning import Chunk, encode_chunk, tokenize_chunks
from engine.prompts.embeddings import Embedding, EmbeddingSet

SDXL_LAYER = -2  # penultimate layer, no final layer norm


@dataclass
class PromptEmbeds:
    embeds: Any  # (1, 77 * chunks, width)
    pooled: Any = None  # SDXL: (1, projection width)
    used: tuple[Embedding, ...] = ()  # the textual-inversion embeddings the prompt named

    @property
    def chunks(self) -> int:
        return int(self.embeds.shape[1]) // 77

    def pipe_kwargs(self, negative: PromptEmbeds) -> dict[str, Any]:
        """Keyword arguments for a diffusers Stable Diffusion / SDXL pipeline call."""
        kwargs = {"prompt_embeds": self.embeds, "negative_prompt_embeds": negative.embeds}
        if self.pooled is not None:
            kwargs["pooled_prompt_embeds"] = self.pooled
            kwargs["negative_pooled_prompt_embeds"] = negative.pooled
        return kwargs


def is_sdxl(pipe: Any) -> bool:
    return getattr(pipe, "text_encoder_2", None) is not None


def encode_prompt(pipe: Any, prompt: str, clip_skip: int = 1, device: Any = None,
                  embeddings: EmbeddingSet | None = None) -> PromptEmbeds:
    """Embeddings of one prompt (LoRA tags removed) for ``pipe``'s text encoder(s).

    ``device``: the pipeline's execution device, if the caller has it (finding it walks every
    module of the pipeline, which costs more than encoding a short prompt). ``embeddings``: the
    textual-inversion embeddings a word of the prompt may name.
    """
    import torch

    device = pipe._execution_device if device is None else device
    with torch.no_grad():
        if is_sdxl(pipe):
            return _encode_sdxl(pipe, prompt, device, embeddings)
        chunks, _ = tokenize_chunks(pipe.tokenizer, prompt, embeddings)
        parts = [encode_chunk(pipe.text_encoder, c, clip_skip, device)[0] for c in chunks]
        return PromptEmbeds(torch.cat(parts, dim=1), used=_used(chunks))


def _encode_sdxl(pipe: Any, prompt: str, device: Any, embeddings: EmbeddingSet | None) -> PromptEmbeds:
    import torch

    first, _ = tokenize_chunks(pipe.tokenizer, prompt, embeddings)
    second, _ = tokenize_chunks(pipe.tokenizer_2, prompt, embeddings)
    parts, pooled = [], None
    for a, b in zip(first, second, strict=True):
        left, _ = encode_chunk(pipe.text_encoder, a, 1, device, layer=SDXL_LAYER, key="clip_l")
        right, text_embeds = encode_chunk(pipe.text_encoder_2, b, 1, device, layer=SDXL_LAYER, key="clip_g")
        pooled = text_embeds if pooled is None else pooled
        parts.append(torch.cat([left, right.to(left.dtype)], dim=-1))
    return PromptEmbeds(torch.cat(parts, dim=1), pooled, _used(first))


def _used(chunks: list[Chunk]) -> tuple[Embedding, ...]:
    return tuple(embedding for chunk in chunks for _, embedding in chunk.fixes)


def encode_pair(pipe: Any, prompt: str, negative: str, clip_skip: int = 1,
                embeddings: EmbeddingSet | None = None) -> tuple[PromptEmbeds, PromptEmbeds]:
    """(positive, negative) embeddings with the same number of chunks."""
    import torch

    cond = encode_prompt(pipe, prompt, clip_skip, embeddings=embeddings)
    if is_sdxl(pipe) and not negative.strip():
        return cond, PromptEmbeds(torch.zeros_like(cond.embeds), torch.zeros_like(cond.pooled))
    uncond = encode_prompt(pipe, negative, clip_skip, embeddings=embeddings)
    if cond.chunks != uncond.chunks:
        empty = encode_prompt(pipe, "", clip_skip)
        cond, uncond = pad_embeds(cond, uncond.chunks, empty), pad_embeds(uncond, cond.chunks, empty)
    return cond, uncond


def pad_embeds(embeds: PromptEmbeds, chunks: int, empty: PromptEmbeds) -> PromptEmbeds:
    """``embeds`` made ``chunks`` long with copies of the empty prompt's embedding (A1111)."""
    import torch

    missing = chunks - embeds.chunks
    if missing <= 0:
        return embeds
    padded = torch.cat([embeds.embeds, empty.embeds.repeat(1, missing, 1)], dim=1)
    return PromptEmbeds(padded, embeds.pooled)
