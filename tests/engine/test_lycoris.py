"""LyCORIS LoHa and LoKr files change the layers they name by exactly their change, and go away exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.generation.generate import generate
from engine.jobs import GenParams, LoraRef
from engine.models.lora import apply_loras
from engine.models.lora_metadata import lora_alias, lora_metadata
from tests.engine.test_generate import Control
from tests.engine.tinymodels import write_tiny_checkpoint

UNET_Q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
UNET_K_LDM = "lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_k"  # the same block, LDM naming
TE_Q = "lora_te_text_model_encoder_layers_0_self_attn_q_proj"
CONV = "lora_unet_down_blocks_0_resnets_0_conv1"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):
    from engine.models.loader import load_checkpoint

    torch.set_num_threads(1)
    return load_checkpoint(write_tiny_checkpoint(tmp_path_factory.mktemp("lyco") / "m.safetensors", "sd1"))


def weight(model, component: str, path: str) -> torch.Tensor:
    return dict(getattr(model.pipe, component).named_modules())[path].weight.detach().clone()


def loha(out_dim: int, in_dim: int, rank: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    return {"hada_w1_a": torch.randn(out_dim, rank, generator=gen), "hada_w1_b": torch.randn(rank, in_dim, generator=gen),
            "hada_w2_a": torch.randn(out_dim, rank, generator=gen), "hada_w2_b": torch.randn(rank, in_dim, generator=gen),
            "alpha": torch.tensor(float(rank) / 2)}


def write(path: Path, modules: dict[str, dict[str, torch.Tensor]], metadata: dict[str, str] | None = None) -> Path:
    from safetensors.torch import save_file

    save_file({f"{m}.{t}": v.contiguous() for m, ts in modules.items() for t, v in ts.items()}, str(path),
              metadata=metadata or {})
    return path


def test_loha_and_lokr_change_their_layers_by_exactly_their_change(model, tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(1)
    q_path, k_path = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q", \
        "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k"
    q0, k0 = weight(model, "unet", q_path), weight(model, "unet", k_path)
    te_modules = dict(model.pipe.text_encoder.named_modules())
    te_path = next(p for p in te_modules if p.endswith("layers.0.self_attn.q_proj"))
    te0 = weight(model, "text_encoder", te_path)
    conv0 = weight(model, "unet", "down_blocks.0.resnets.0.conv1")
    out_q, in_q = q0.shape
    a = loha(out_q, in_q, 4, gen)
    t = loha(te0.shape[0], te0.shape[1], 2, gen)
    c = loha(conv0.shape[0], conv0[0].numel(), 3, gen)
    w1 = torch.randn(4, 4, generator=gen)
    w2a, w2b = torch.randn(k0.shape[0] // 4, 2, generator=gen), torch.randn(2, k0.shape[1] // 4, generator=gen)
    k = {"lokr_w1": w1, "lokr_w2_a": w2a, "lokr_w2_b": w2b, "alpha": torch.tensor(1.0)}
    loha_file = write(tmp_path / "hada.safetensors", {UNET_Q: a, TE_Q: t, CONV: c})
    lokr_file = write(tmp_path / "kron.safetensors", {UNET_K_LDM: k})
    apply_loras(model, [LoraRef("hada", 0.7, str(loha_file)), LoraRef("kron", 1.5, str(lokr_file))])

    def hada(m: dict[str, torch.Tensor]) -> torch.Tensor:
        rank = m["hada_w1_b"].shape[0]
        return (m["hada_w1_a"] @ m["hada_w1_b"]) * (m["hada_w2_a"] @ m["hada_w2_b"]) * float(m["alpha"]) / rank

    assert torch.allclose(weight(model, "unet", q_path), q0 + 0.7 * hada(a), atol=1e-5)
    assert torch.allclose(weight(model, "text_encoder", te_path), te0 + 0.7 * hada(t), atol=1e-5)
    assert torch.allclose(weight(model, "unet", "down_blocks.0.resnets.0.conv1"),
                          conv0 + 0.7 * hada(c).reshape(conv0.shape), atol=1e-5)
    assert torch.allclose(weight(model, "unet", k_path), k0 + 1.5 * torch.kron(w1, w2a @ w2b) * 1.0 / 2, atol=1e-5)
    assert model.applied_loras == {"hada": 0.7, "kron": 1.5} and len(model.lora_hashes["hada"]) == 12
    apply_loras(model, [])
    assert torch.equal(weight(model, "unet", q_path), q0) and torch.equal(weight(model, "unet", k_path), k0)
    assert torch.equal(weight(model, "text_encoder", te_path), te0)


def test_a_loha_changes_the_picture_and_weight_zero_does_not(model, tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(2)
    q0 = weight(model, "unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q")
    path = write(tmp_path / "style.safetensors", {UNET_Q: loha(q0.shape[0], q0.shape[1], 4, gen)})
    params = GenParams(prompt="a cat", steps=2, width=32, height=32, seed=5)

    def picture(loras: tuple[LoraRef, ...]) -> np.ndarray:
        apply_loras(model, loras)
        return np.asarray(generate(model, params, Control()).images[0]).astype(int)

    plain = picture(())
    assert np.array_equal(picture((LoraRef("style", 0.0, str(path)),)), plain)
    assert not np.array_equal(picture((LoraRef("style", 1.0, str(path)),)), plain)
    assert np.array_equal(picture(()), plain)


def test_lora_listing_metadata_and_alias(tmp_path: Path) -> None:
    path = write(tmp_path / "my_file.safetensors", {UNET_Q: {"hada_w1_a": torch.zeros(2, 2)}},
                 {"ss_output_name": "detail_tweaker", "ss_tag_frequency": '{"set": {"1girl": 3}}',
                  "ss_network_module": "lycoris.kohya"})
    metadata = lora_metadata(path)
    assert metadata["ss_tag_frequency"] == {"set": {"1girl": 3}} and metadata["ss_network_module"] == "lycoris.kohya"
    assert lora_alias(path, metadata) == "detail_tweaker"
    assert lora_alias(tmp_path / "x.safetensors", {}) == "x"
