"""Textual-inversion embeddings: every file format, the token rows they put in the prompt, chunking,
emphasis, names that match nothing, widths that do not fit, and the infotext's TI hashes."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.generation.generate import generate
from engine.jobs import GenParams
from engine.models.embedding_files import EmbeddingFileError, read_embedding
from engine.models.embedding_library import EmbeddingLibrary
from engine.models.registry import ModelRegistry
from engine.prompts.conditioning import apply_weights, token_count, tokenize_chunks
from engine.prompts.embeddings import Embedding, EmbeddingSet, fits, model_widths, ti_hashes
from engine.prompts.embeds import encode_prompt
from installer.home import Home
from tests.engine.test_generate import Control
from tests.engine.test_generate_archs import model as arch_model
from tests.engine.tinyembeddings import FORMATS, random_vectors, sdxl_vectors, write_embedding
from tests.engine.tinypipe import shared_model


@pytest.fixture(scope="module")
def pipe() -> Any:
    return shared_model().pipe


def emb(name: str, vectors: Any, short: str = "0123456789ab") -> Embedding:
    return Embedding(name, {"": vectors}, Path(f"{name}.pt"), short)


class TokenRows:
    """The rows the text encoder's transformer gets: token embeddings, embeddings' vectors put in."""

    def __init__(self, text_encoder: Any) -> None:
        token_layer = text_encoder.get_input_embeddings()
        self.module = next(m for m in text_encoder.modules() if getattr(m, "token_embedding", None) is token_layer)
        self.rows: list[Any] = []

    def __enter__(self) -> TokenRows:
        def keep(module: Any, inputs: Any, output: Any) -> None:
            positions = module.position_embedding(torch.arange(output.shape[1]).unsqueeze(0))
            self.rows.append(output - positions)

        self.handle = self.module.register_forward_hook(keep)
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.remove()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_sd1_format_gives_its_vectors(tmp_path: Path, fmt: str) -> None:
    vectors = random_vectors(3, 32, seed=4)
    data = read_embedding(write_embedding(tmp_path, "neg", fmt, vectors))
    assert list(data.vectors) == [""] and torch.equal(data.vectors[""], vectors)
    assert (data.count, data.shape) == (3, 32)
    assert data.step == (500 if fmt == "pt" else None)


@pytest.mark.parametrize("fmt", ["sdxl", "sdxl-pt"])
def test_sdxl_files_give_both_encoders_vectors(tmp_path: Path, fmt: str) -> None:
    vectors = sdxl_vectors(2)
    data = read_embedding(write_embedding(tmp_path, "xl", fmt, vectors))
    assert torch.equal(data.vectors["clip_l"], vectors["clip_l"]) and torch.equal(data.vectors["clip_g"], vectors["clip_g"])
    assert (data.count, data.shape) == (2, 96)


class Payload:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo this should never run",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"string_to_param": {"*": torch.zeros(1, 32)}, "extra": Payload()}, str(path))
    with pytest.raises(EmbeddingFileError, match="more than tensors"):
        read_embedding(path)
    (tmp_path / "two.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b" " * 14)
    with pytest.raises(EmbeddingFileError):
        read_embedding(tmp_path / "two.safetensors")


def test_the_prompts_token_rows_equal_the_embeddings_vectors(pipe: Any) -> None:
    vectors = random_vectors(3, 32, seed=1)
    found = EmbeddingSet({"easyneg": emb("easyneg", vectors)})
    with TokenRows(pipe.text_encoder) as seen:
        encoded = encode_prompt(pipe, "a cat, EasyNeg, dog", embeddings=found)
    chunks, count = tokenize_chunks(pipe.tokenizer, "a cat, EasyNeg, dog", found)
    (row, used), = chunks[0].fixes
    assert used.name == "easyneg" and count == 2 + 1 + 3 + 1 + 1
    assert chunks[0].tokens[row:row + 3] == [0, 0, 0]
    assert torch.allclose(seen.rows[0][0, row:row + 3], vectors, atol=1e-6)
    plain = TokenRows(pipe.text_encoder)
    with plain:
        encode_prompt(pipe, "a cat, EasyNeg, dog")
    assert not torch.allclose(plain.rows[0][0, row:row + 3], vectors, atol=1e-3)  # without it: the name's tokens
    assert [e.name for e in encoded.used] == ["easyneg"]


def test_sdxl_embeddings_fill_each_encoders_rows(tmp_path_factory: pytest.TempPathFactory) -> None:
    xl = arch_model("sdxl", tmp_path_factory).pipe
    vectors = sdxl_vectors(2, (xl.text_encoder.config.hidden_size, xl.text_encoder_2.config.hidden_size))
    embedding = Embedding("xlneg", vectors, Path("xlneg.safetensors"), "abc")
    assert fits(embedding, model_widths(xl))
    found = EmbeddingSet({"xlneg": embedding})
    with TokenRows(xl.text_encoder) as first, TokenRows(xl.text_encoder_2) as second:
        encode_prompt(xl, "a cat xlneg", embeddings=found)
    row = tokenize_chunks(xl.tokenizer, "a cat xlneg", found)[0][0].fixes[0][0]
    assert torch.allclose(first.rows[0][0, row:row + 2], vectors["clip_l"], atol=1e-5)
    assert torch.allclose(second.rows[0][0, row:row + 2], vectors["clip_g"], atol=1e-5)


def test_multi_vector_embeddings_count_in_the_75_token_chunks(pipe: Any) -> None:
    found = EmbeddingSet({"neg": emb("neg", random_vectors(4, 32))})
    prompt = " ".join(["cat"] * 73) + " neg"
    chunks, count = tokenize_chunks(pipe.tokenizer, prompt, found)
    # 73 + 4 does not fit in 75: the embedding starts the next chunk, whole
    assert len(chunks) == 2 and count == 75 + 4
    assert chunks[0].fixes == [] and chunks[1].fixes[0][0] == 1 and chunks[1].tokens[1:5] == [0] * 4
    assert token_count(pipe.tokenizer, prompt, embeddings=found) == (79, 2)
    assert token_count(pipe.tokenizer, prompt) != (79, 2)


def test_a_comma_backtrack_carries_the_embedding_along(pipe: Any) -> None:
    found = EmbeddingSet({"neg": emb("neg", random_vectors(2, 32))})
    prompt = " ".join(["cat"] * 70) + ", neg cat cat dog"
    chunks, _ = tokenize_chunks(pipe.tokenizer, prompt, found)
    # 70 cats, a comma, 2 vectors, 2 cats = 75; "dog" would be the 76th: what follows the comma moves on
    assert chunks[0].fixes == []
    assert chunks[1].fixes[0][0] == 1 and chunks[1].tokens[1:3] == [0, 0]


def test_emphasis_weights_the_embeddings_rows_like_any_token(pipe: Any) -> None:
    found = EmbeddingSet({"neg": emb("neg", random_vectors(2, 32, seed=3))})
    chunks, _ = tokenize_chunks(pipe.tokenizer, "a (neg:1.5) cat", found)
    row = chunks[0].fixes[0][0]
    assert chunks[0].multipliers[row:row + 2] == [1.5, 1.5]
    weighted = encode_prompt(pipe, "a (neg:1.5) cat", embeddings=found).embeds
    plain = encode_prompt(pipe, "a neg cat", embeddings=found).embeds
    expected = apply_weights(plain, torch.tensor(chunks[0].multipliers))
    assert torch.allclose(weighted, expected, atol=1e-5)


def test_names_match_whole_words_and_others_stay_text(pipe: Any) -> None:
    found = EmbeddingSet({"neg": emb("neg", random_vectors(2, 32))})
    for prompt in ("a negx cat", "a ne g cat", "a cat"):
        with_set, _ = tokenize_chunks(pipe.tokenizer, prompt, found)
        without, _ = tokenize_chunks(pipe.tokenizer, prompt)
        assert with_set[0].tokens == without[0].tokens and not with_set[0].fixes
        assert torch.equal(encode_prompt(pipe, prompt, embeddings=found).embeds, encode_prompt(pipe, prompt).embeds)
    assert tokenize_chunks(pipe.tokenizer, "a NEG cat", found)[0][0].fixes  # the tokenizer lowercases, as in A1111


def write_home(tmp_path: Path) -> Home:
    home = Home(tmp_path / "home").ensure()
    write_embedding(home.root / "embeddings", "fits", "safetensors", random_vectors(2, 32))
    write_embedding(home.root / "embeddings" / "sub", "deep", "pt", random_vectors(1, 32))
    write_embedding(home.root / "models" / "embeddings", "forge", "bin", random_vectors(1, 32))
    write_embedding(home.root / "embeddings", "sd15", "pt", random_vectors(2, 768))
    return home


def test_the_library_reads_the_folders_and_skips_other_widths_with_a_console_line(
        tmp_path: Path, pipe: Any, caplog: pytest.LogCaptureFixture) -> None:
    home = write_home(tmp_path)
    shared = tmp_path / "aki"
    write_embedding(shared / "embeddings", "aki_neg", "pt-legacy", random_vectors(3, 32))
    (shared / "models").mkdir()
    library = EmbeddingLibrary(ModelRegistry(home, [str(shared)]))
    with caplog.at_level(logging.INFO):
        found = library.for_model(pipe, "tiny")
    assert sorted(found.loaded) == ["aki_neg", "deep", "fits", "forge"]
    assert list(found.skipped) == ["sd15"]
    assert "Embedding sd15 skipped: its vectors are 768 wide, tiny takes 32" in caplog.text
    described = found.loaded["aki_neg"].describe()
    assert described == {"step": None, "sd_checkpoint": None, "sd_checkpoint_name": None, "shape": 32, "vectors": 3}
    fits_file = home.root / "embeddings" / "fits.safetensors"
    assert found.loaded["fits"].short_hash == hashlib.sha256(fits_file.read_bytes()).hexdigest()[:12]
    write_embedding(home.root / "embeddings", "later", "safetensors", random_vectors(1, 32))
    assert "later" not in library.for_model(pipe).loaded
    assert "later" in library.for_model(pipe, check_folders=True).loaded  # a dropped-in file, as A1111 notices


def test_generation_uses_the_embedding_and_writes_its_hash(pipe: Any) -> None:
    vectors = random_vectors(3, 32, seed=9)
    found = EmbeddingSet({"badhand": emb("badhand", vectors, "c0ffee123456")})
    base = replace(shared_model(), embeddings=found)
    params = GenParams(prompt="a cat", negative_prompt="badhand", steps=2, width=32, height=32, seed=3,
                       sampler_name="Euler")
    with_it = generate(base, params, Control())
    without = generate(replace(base, embeddings=None), params, Control())
    assert 'TI hashes: "badhand: c0ffee123456"' in with_it.infotexts[0]
    assert "TI hashes" not in without.infotexts[0]
    assert with_it.images[0].tobytes() != without.images[0].tobytes()
    assert ti_hashes([found.loaded["badhand"], found.loaded["badhand"]]) == "badhand: c0ffee123456"
