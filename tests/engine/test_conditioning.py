"""Chunking, weighting, clip skip and negative-prompt padding on a tiny CLIP model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.prompts.conditioning import token_count, tokenize_chunks
from engine.prompts.embeds import encode_pair, encode_prompt
from tests.engine.tinypipe import shared_model, tokenizer


@pytest.fixture(scope="module")
def pipe():
    return shared_model().pipe


def words(n: int) -> str:
    return " ".join(["cat"] * n)  # "cat" is one token in the tiny vocabulary


def test_short_prompt_is_one_chunk_of_77(pipe) -> None:
    tok = pipe.tokenizer
    chunks, count = tokenize_chunks(tok, "a cat")
    cat, a = tok.convert_tokens_to_ids("cat</w>"), tok.convert_tokens_to_ids("a</w>")
    assert count == 2 and len(chunks) == 1
    assert chunks[0].tokens == [tok.bos_token_id, a, cat] + [tok.eos_token_id] * 74
    assert chunks[0].multipliers == [1.0] * 77


def test_long_prompt_is_cut_into_75_token_chunks(pipe) -> None:
    chunks, count = tokenize_chunks(pipe.tokenizer, words(80))
    assert count == 80 and len(chunks) == 2
    assert all(len(c.tokens) == 77 for c in chunks)
    cat = pipe.tokenizer.convert_tokens_to_ids("cat</w>")
    assert chunks[0].tokens.count(cat) == 75 and chunks[1].tokens.count(cat) == 5
    assert token_count(pipe.tokenizer, words(75)) == (75, 1)
    assert token_count(pipe.tokenizer, words(76)) == (76, 2)


def test_break_and_comma_backtrack(pipe) -> None:
    tok = pipe.tokenizer
    chunks, count = tokenize_chunks(tok, "cat BREAK dog")
    assert len(chunks) == 2 and count == 76  # A1111 counts a closed chunk as 75
    # 70 tokens, a comma, then 10: the chunk fills within 20 tokens of the comma,
    # so the 4 tokens after the comma move to the next chunk with the rest
    chunks, _ = tokenize_chunks(tok, words(70) + "," + words(10))
    comma = tok.convert_tokens_to_ids(",</w>")
    first = chunks[0].tokens
    assert first[71] == comma and first[72:76] == [tok.eos_token_id] * 4
    assert chunks[1].tokens[1:11] == [tok.convert_tokens_to_ids("cat</w>")] * 10


def test_weights_land_on_their_tokens(pipe) -> None:
    chunks, _ = tokenize_chunks(pipe.tokenizer, "a (cat:1.5) [dog]")
    assert chunks[0].multipliers[:5] == pytest.approx([1.0, 1.0, 1.5, 1 / 1.1, 1.0])


def test_token_count_ignores_lora_tags_and_weight_syntax(pipe) -> None:
    assert token_count(pipe.tokenizer, "<lora:detail:0.8>(a cat:1.2)") == token_count(pipe.tokenizer, "a cat")
    assert token_count(pipe.tokenizer, "") == (0, 1)
    assert token_count(pipe.tokenizer, f"[cat:{words(80)}:5]") == (80, 2)  # the longest text counts


def test_sd2_style_padding_after_one_end_token(tmp_path: Path) -> None:
    tok = tokenizer(tmp_path)
    tok.pad_token = "!"
    chunks, _ = tokenize_chunks(tok, "a cat")
    assert chunks[0].tokens[3] == tok.eos_token_id
    assert chunks[0].tokens[4:] == [tok.convert_tokens_to_ids("!")] * 73


def test_plain_prompt_equals_diffusers_encoding(pipe) -> None:
    ours = encode_prompt(pipe, "a photo of a cat").embeds
    theirs, _ = pipe.encode_prompt("a photo of a cat", "cpu", 1, False)
    assert torch.allclose(ours, theirs, atol=1e-6)


def test_emphasis_scales_the_token_and_keeps_the_mean(pipe) -> None:
    plain = encode_prompt(pipe, "a cat").embeds
    strong = encode_prompt(pipe, "a (cat:1.5)").embeds
    assert strong.mean().item() == pytest.approx(plain.mean().item(), rel=1e-4)
    ratio = (strong[0, 2] / plain[0, 2]) / (strong[0, 1] / plain[0, 1])
    assert torch.allclose(ratio, torch.full_like(ratio, 1.5), rtol=1e-3)


def test_clip_skip_uses_an_earlier_layer_then_the_final_norm(pipe) -> None:
    te = pipe.text_encoder
    ids = tokenize_chunks(pipe.tokenizer, "a cat")[0][0].tokens
    with torch.no_grad():
        hidden = te(torch.tensor([ids]), output_hidden_states=True).hidden_states
        expected = te.final_layer_norm(hidden[-2])
    skipped = encode_prompt(pipe, "a cat", clip_skip=2).embeds
    assert torch.allclose(skipped, expected, atol=1e-6)
    assert not torch.allclose(skipped, encode_prompt(pipe, "a cat").embeds, atol=1e-3)


def test_negative_prompt_is_padded_with_empty_chunks(pipe) -> None:
    cond, uncond = encode_pair(pipe, words(100), "ugly")
    assert cond.embeds.shape == uncond.embeds.shape == (1, 154, 32)
    assert torch.allclose(uncond.embeds[:, :77], encode_prompt(pipe, "ugly").embeds)
    assert torch.allclose(uncond.embeds[:, 77:], encode_prompt(pipe, "").embeds)
    cond, uncond = encode_pair(pipe, "cat", words(160))
    assert cond.embeds.shape[1] == uncond.embeds.shape[1] == 231
