"""Train Maple's built-in shapes model and its outlined LoRA on this machine's CPU.

    .venv/bin/python scripts/train_demo_model.py              # the model and its LoRA (about 36 minutes on 2 cores)
    .venv/bin/python scripts/train_demo_model.py --quick      # a few steps of each phase, to try the script
    .venv/bin/python scripts/train_demo_model.py --lora-only  # only the LoRA, over the model already written

The model has the SD1 layout (CLIP text encoder over the real CLIP tokenizer, UNet, VAE) at a tiny
size (``assets/configs/shapes``) and learns from pictures this script draws itself: one shape of one
colour on a plain background, described in English ("a small red circle on a blue background, top
left"). One scene in ten is never drawn, so adherence can be measured on unseen prompts. The result
is one A1111 single-file checkpoint, ``assets/models/maple-shapes.safetensors``, and a LoRA,
``assets/models/maple-shapes-outlined.safetensors``. The same seed gives the same weights.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from engine.models.configs import CONFIG_METADATA_KEY, load_tokenizer  # noqa: E402
from engine.models.synth import instantiate, ldm_state_dict, write_checkpoint  # noqa: E402
from scripts.shapes import training  # noqa: E402
from scripts.shapes.vocab import Scene, training_scenes  # noqa: E402

CONFIG = ROOT / "assets" / "configs" / "shapes"
OUT = ROOT / "assets" / "models"
MODEL_FILE = "maple-shapes.safetensors"
LORA_FILE = "maple-shapes-outlined.safetensors"
FULL = {"pool": 5000, "vae_striped": 500, "vae": 1600, "unet": 3100, "lora_pool": 1200, "lora": 400}
QUICK = {"pool": 128, "vae_striped": 16, "vae": 50, "unet": 100, "lora_pool": 64, "lora": 50}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def describe(scenes: list[Scene]) -> None:
    for field in ("colour", "shape", "background", "size"):
        counts = collections.Counter(getattr(s, field) or "medium" for s in scenes)
        log(f"  {field}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    log(f"  e.g. {scenes[0].prompt()!r}, {scenes[1].prompt(style=1)!r}")


def build_models(seed: int) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(seed)
    return instantiate(CONFIG, "vae"), instantiate(CONFIG, "text_encoder"), instantiate(CONFIG, "unet")


def scheduler() -> object:
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")


def save_model(vae: torch.nn.Module, text: torch.nn.Module, unet: torch.nn.Module, out: Path) -> Path:
    parts = {"unet": unet.state_dict(), "vae": vae.state_dict(), "text_encoder": text.state_dict()}
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in ldm_state_dict(CONFIG, parts).items()}
    return write_checkpoint(out / MODEL_FILE, dict(sorted(state.items())), {CONFIG_METADATA_KEY: "shapes"})


def save_lora(state: dict[str, torch.Tensor], out: Path, rank: int) -> Path:
    tensors = {k: v.to(torch.float16).contiguous() for k, v in sorted(state.items())}
    metadata = {"ss_output_name": LORA_FILE.removesuffix(".safetensors"), "ss_base_model_version": "sd_v1",
                "ss_network_module": "networks.lora", "ss_network_dim": str(rank), "ss_network_alpha": str(rank),
                "ss_tag_frequency": '{"outlined": {"outlined": 1}}'}
    return write_checkpoint(out / LORA_FILE, tensors, metadata)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few steps of each phase (to try the script)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--lora-only", action="store_true",
                        help="train only the LoRA, over the model already in --out (read as any checkpoint)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    torch.set_num_threads(os.cpu_count() or 1)
    random.seed(args.seed)
    started = time.time()
    if args.lora_only:
        from engine.models.loader import load_checkpoint

        pipe = load_checkpoint(args.out / MODEL_FILE).pipe
        vae, text, unet = (m.float() for m in (pipe.vae, pipe.text_encoder, pipe.unet))
        log(f"read {args.out / MODEL_FILE}")
        train_and_save_lora(vae, text, unet, plan, args, started)
        return 0
    scenes = training_scenes(plan["pool"], args.seed)
    log(f"drawing {len(scenes)} training pictures (128x128)")
    pool = training.draw_pool(scenes, args.seed)
    describe(scenes)
    vae, text, unet = build_models(args.seed)
    log(f"models: unet {_count(unet)}, text encoder {_count(text)}, vae {_count(vae)} parameters")
    striped = training.draw_pool(training_scenes(plan["vae_striped"], args.seed + 5), args.seed + 5, striped=True)
    log(f"the autoencoder also sees {len(striped.scenes)} striped pictures (a texture beside the flat colours)")
    training.train_vae(vae, training.joined(pool, striped), plan["vae"], args.seed + 1, log)
    log(f"vae reconstruction error (mean |difference| of 128x128 pictures, 0-255): {training.recon_error(vae, pool):.2f}"
        f", striped {training.recon_error(vae, striped):.2f}")
    training.fix_variance(vae)
    stats = training.encode_pool(vae, pool)
    k = training.rescale_latent(vae, stats[0])
    stats = (stats[0] * k, stats[1] * k)
    log(f"latent rescaled by {k:.3f}; latent std now {float(stats[0].std()) * training.LATENT_SCALE:.3f} after 0.18215")
    sched, tokenizer = scheduler(), load_tokenizer(CONFIG)
    ema = training.train_denoiser(unet, text, sched, tokenizer, stats, scenes, plan["unet"], args.seed + 2, log)
    ema.copy_to_model()
    path = save_model(vae, text, unet, args.out)
    log(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB) after {time.time() - started:.0f} s")
    train_and_save_lora(vae, text, unet, plan, args, started)
    return 0


def train_and_save_lora(vae: torch.nn.Module, text: torch.nn.Module, unet: torch.nn.Module, plan: dict[str, int],
                        args: argparse.Namespace, started: float) -> None:
    lora_scenes = training_scenes(plan["lora_pool"], args.seed + 3)
    lora_pool = training.draw_pool(lora_scenes, args.seed + 3, outlined=True)
    log(f"the LoRA learns from {len(lora_scenes)} outlined pictures")
    lora_stats = training.encode_pool(vae, lora_pool)
    sched, tokenizer = scheduler(), load_tokenizer(CONFIG)
    lora = training.train_lora(unet, text, sched, tokenizer, lora_stats, lora_scenes, plan["lora"], args.seed + 4, log)
    lpath = save_lora(lora, args.out, rank=4)
    log(f"wrote {lpath} ({lpath.stat().st_size / 2**10:.0f} KiB); total {time.time() - started:.0f} s")


def _count(model: torch.nn.Module) -> str:
    return f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M"


if __name__ == "__main__":
    raise SystemExit(main())
