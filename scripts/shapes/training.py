"""The training steps of the built-in shapes model: the autoencoder, the text encoder with the UNet, a LoRA.

Everything runs on the CPU in float32 with one seeded generator per phase, so a run with the same
settings on the same machine gives the same weights. Each phase prints its losses and its time.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from scripts.shapes.draw import draw_scene
from scripts.shapes.vocab import Scene

LATENT_SCALE = 0.18215  # SD1's latent scaling factor, kept by rescaling the autoencoder's latent instead
Log = Callable[[str], None]


@dataclass
class Pool:
    """Pictures (N x 3 x 128 x 128 in [-1, 1]) with their scenes."""
    pictures: torch.Tensor
    scenes: list[Scene]


def draw_pool(scenes: list[Scene], seed: int, striped: bool = False, outlined: bool = False) -> Pool:
    rng = random.Random(seed)
    arrays = [np.asarray(draw_scene(s, rng, striped=striped, outlined=outlined), dtype=np.uint8) for s in scenes]
    stack = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    return Pool(stack.contiguous(), scenes)


def joined(*pools: Pool) -> Pool:
    return Pool(torch.cat([p.pictures for p in pools]), [s for p in pools for s in p.scenes])


def cosine_lr(step: int, total: int, peak: float, warmup: int = 50) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    done = (step - warmup) / max(1, total - warmup)
    return peak * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * done)))


def _set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr * group.get("scale", 1.0)


def train_vae(vae: Any, pool: Pool, steps: int, seed: int, log: Log, batch: int = 16, crop: int = 32,
              last_batch: int = 4, last_share: float = 0.3, lr: float = 4e-4) -> None:
    """L1 reconstruction from the latent mean, with a small pull of the mean towards zero.

    The autoencoder is translation-equivariant, so small crops teach it cheaply at first; the last
    ``last_share`` of the steps use whole pictures, since its group norms see the whole picture when
    it is used (crop-only training left colours off by tens of levels: a purple shape came out blue).
    A peak rate of 1e-3 stalled for over 1,000 steps; 4e-4 does not. The posterior's variance is not
    trained: ``fix_variance`` makes the encoder deterministic afterwards."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    vae.train()
    started, total = time.time(), 0.0
    side = pool.pictures.shape[-1]
    for step in range(steps):
        _set_lr(opt, cosine_lr(step, steps, lr))
        whole = step >= steps * (1 - last_share)
        size, count = (side, last_batch) if whole else (crop, batch)
        idx = torch.randint(0, len(pool.scenes), (count,), generator=gen)
        y, x = (int(v) for v in torch.randint(0, side - size + 1, (2,), generator=gen) // 8 * 8)
        images = pool.pictures[idx, :, y:y + size, x:x + size]
        mean = vae.encode(images).latent_dist.mean
        recon = vae.decode(mean).sample
        loss = (recon - images).abs().mean() + 1e-6 * mean.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += float(loss.detach())
        if (step + 1) % 100 == 0:
            log(f"vae step {step + 1}/{steps} ({'whole pictures' if whole else f'{crop}x{crop} crops'}) "
                f"loss {total / 100:.4f} ({time.time() - started:.0f} s)")
            total = 0.0
    vae.eval()


@torch.no_grad()
def recon_error(vae: Any, pool: Pool, count: int = 64) -> float:
    """Mean absolute difference, in 0-255 levels, between pictures and their round trip through the autoencoder."""
    pictures = pool.pictures[:count]
    recon = vae.decode(vae.encode(pictures).latent_dist.mean).sample.clamp(-1, 1)
    return float((recon - pictures).abs().mean()) * 127.5


@torch.no_grad()
def encode_pool(vae: Any, pool: Pool, batch: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Each picture's latent mean and standard deviation (unscaled)."""
    means, stds = [], []
    for start in range(0, len(pool.scenes), batch):
        dist = vae.encode(pool.pictures[start:start + batch]).latent_dist
        means.append(dist.mean)
        stds.append(dist.std)
    return torch.cat(means), torch.cat(stds)


@torch.no_grad()
def fix_variance(vae: Any, log_variance: float = -30.0) -> None:
    """A near-zero posterior variance: sampling the latent gives its mean (as img2img encodes)."""
    half = vae.quant_conv.out_channels // 2
    vae.quant_conv.weight[half:] = 0.0
    vae.quant_conv.bias[half:] = log_variance


@torch.no_grad()
def rescale_latent(vae: Any, means: torch.Tensor) -> float:
    """Scale the autoencoder's latent so SD1's factor 0.18215 brings it to unit variance (same pictures out)."""
    k = 1.0 / (LATENT_SCALE * float(means.std()))
    half = vae.quant_conv.out_channels // 2
    vae.quant_conv.weight[:half] *= k
    vae.quant_conv.bias[:half] *= k
    vae.post_quant_conv.weight /= k
    return k


def tokenize(tokenizer: Any, prompts: list[str]) -> torch.Tensor:
    ids = tokenizer(prompts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids
    return ids


class Ema:
    """An exponential moving average of a set of parameters (the weights that ship)."""

    def __init__(self, params: list[nn.Parameter], decay: float) -> None:
        self.params, self.decay = params, decay
        self.shadow = [p.detach().clone() for p in params]

    @torch.no_grad()
    def update(self, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        for s, p in zip(self.shadow, self.params, strict=True):
            s.mul_(d).add_(p.detach(), alpha=1 - d)

    @torch.no_grad()
    def copy_to_model(self) -> None:
        for s, p in zip(self.shadow, self.params, strict=True):
            p.copy_(s)


def scene_batches(scenes: list[Scene], batch: int, gen: torch.Generator, drop: float = 0.1,
                  ) -> Iterator[tuple[torch.Tensor, list[str]]]:
    """Endless (indices, prompts): the prompt is empty in ``drop`` of them (for guidance), or a second wording."""
    while True:
        idx = torch.randint(0, len(scenes), (batch,), generator=gen)
        draws = torch.rand(batch, generator=gen).tolist()
        prompts = ["" if r < drop else scenes[i].prompt(style=int(r > 0.85)) for i, r in zip(idx.tolist(), draws, strict=True)]
        yield idx, prompts


def diffusion_loss(unet: Any, text: Any, scheduler: Any, latents: torch.Tensor, ids: torch.Tensor,
                   gen: torch.Generator) -> torch.Tensor:
    """Epsilon-prediction loss with min-SNR-5 weighting. Half the timesteps are drawn from the noisier
    70 %, where the picture's colours and layout are decided (what the prompt must steer)."""
    noise = torch.randn(latents.shape, generator=gen)
    total = scheduler.config.num_train_timesteps
    n = latents.shape[0]
    t = torch.randint(0, total, (n,), generator=gen)
    noisy_half = torch.randint(int(total * 0.3), total, (n,), generator=gen)
    t = torch.where(torch.arange(n) % 2 == 0, t, noisy_half)
    noisy = scheduler.add_noise(latents, noise, t)
    states = text(ids)[0]
    pred = unet(noisy, t, states).sample
    alphas = scheduler.alphas_cumprod[t]
    snr = alphas / (1 - alphas)
    weight = torch.clamp(snr, max=5.0) / snr
    return (weight * (pred - noise).pow(2).mean(dim=(1, 2, 3))).mean()


def train_denoiser(unet: Any, text: Any, scheduler: Any, tokenizer: Any, stats: tuple[torch.Tensor, torch.Tensor],
                   scenes: list[Scene], steps: int, seed: int, log: Log, batch: int = 32) -> Ema:
    """The text encoder and the UNet together, from scratch; returns the EMA of their weights."""
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in list(unet.parameters()) + list(text.parameters()) if p.requires_grad]
    groups = [{"params": list(unet.parameters()), "scale": 1.0}, {"params": list(text.parameters()), "scale": 2.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, weight_decay=1e-2)  # the text encoder learns twice as fast
    ema = Ema(params, decay=0.999)
    means, stds = stats
    batches = scene_batches(scenes, batch, gen)
    started, total = time.time(), 0.0
    unet.train()
    text.train()
    for step in range(steps):
        _set_lr(opt, cosine_lr(step, steps, 1e-3, warmup=100))
        idx, prompts = next(batches)
        latents = (means[idx] + stds[idx] * torch.randn(means[idx].shape, generator=gen)) * LATENT_SCALE
        loss = diffusion_loss(unet, text, scheduler, latents, tokenize(tokenizer, prompts), gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        ema.update(step)
        total += float(loss.detach())
        if (step + 1) % 100 == 0:
            log(f"unet step {step + 1}/{steps} loss {total / 100:.4f} ({time.time() - started:.0f} s)")
            total = 0.0
    unet.eval()
    text.eval()
    return ema


class LoraLinear(nn.Module):
    """A frozen linear layer plus a trained low-rank update (``up @ down``, scaled by alpha / rank)."""

    def __init__(self, base: nn.Linear, rank: int, gen: torch.Generator) -> None:
        super().__init__()
        self.base, self.rank, self.alpha = base, rank, float(rank)
        self.down = nn.Parameter(torch.randn(rank, base.in_features, generator=gen) / math.sqrt(base.in_features))
        self.up = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.down.t() @ self.up.t()) * (self.alpha / self.rank)


LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0")


def add_lora(unet: Any, rank: int, seed: int) -> dict[str, LoraLinear]:
    """Wrap every attention projection of the UNet; returns {diffusers module path: wrapper}."""
    gen = torch.Generator().manual_seed(seed)
    wrapped: dict[str, LoraLinear] = {}
    for name, _module in list(unet.named_modules()):
        for target in LORA_TARGETS:
            parent_name, _, leaf = f"{name}.{target}".rpartition(".")
            if not (name.endswith(("attn1", "attn2"))):
                continue
            parent = unet.get_submodule(parent_name)
            base = getattr(parent, leaf) if not leaf.isdigit() else parent[int(leaf)]
            if not isinstance(base, nn.Linear):
                continue
            layer = LoraLinear(base, rank, gen)
            if leaf.isdigit():
                parent[int(leaf)] = layer
            else:
                setattr(parent, leaf, layer)
            wrapped[f"{name}.{target}"] = layer
    return wrapped


def lora_state(wrapped: dict[str, LoraLinear]) -> dict[str, torch.Tensor]:
    """The LoRA in the kohya layout A1111 reads (``lora_unet_<path>.lora_down.weight``, ``.lora_up.weight``, ``.alpha``)."""
    out: dict[str, torch.Tensor] = {}
    for path, layer in sorted(wrapped.items()):
        key = "lora_unet_" + path.replace(".", "_")
        out[f"{key}.lora_down.weight"] = layer.down.detach().clone()
        out[f"{key}.lora_up.weight"] = layer.up.detach().clone()
        out[f"{key}.alpha"] = torch.tensor(layer.alpha)
    return out


def train_lora(unet: Any, text: Any, scheduler: Any, tokenizer: Any, stats: tuple[torch.Tensor, torch.Tensor],
               scenes: list[Scene], steps: int, seed: int, log: Log, rank: int = 4, batch: int = 32,
               ) -> dict[str, torch.Tensor]:
    """A LoRA over the frozen model, taught on outlined pictures with the plain prompts (no trigger word)."""
    unet.requires_grad_(False)
    text.requires_grad_(False)
    wrapped = add_lora(unet, rank, seed)
    params = [p for layer in wrapped.values() for p in (layer.down, layer.up)]
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    means, stds = stats
    batches = scene_batches(scenes, batch, gen, drop=0.05)
    started, total = time.time(), 0.0
    for step in range(steps):
        _set_lr(opt, cosine_lr(step, steps, 2e-3, warmup=20))
        idx, prompts = next(batches)
        latents = (means[idx] + stds[idx] * torch.randn(means[idx].shape, generator=gen)) * LATENT_SCALE
        with torch.no_grad():
            ids = tokenize(tokenizer, prompts)
        loss = diffusion_loss(unet, text, scheduler, latents, ids, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += float(loss.detach())
        if (step + 1) % 50 == 0:
            log(f"lora step {step + 1}/{steps} loss {total / 50:.4f} ({time.time() - started:.0f} s)")
            total = 0.0
    return lora_state(wrapped)
