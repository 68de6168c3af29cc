"""A 4-step txt2img with one ControlNet unit: the engine against a bare diffusers ControlNet pipeline.

Run: .venv/bin/python tests/bench/bench_controlnet.py
Both sides use the same tiny SD1 checkpoint (loaded by the engine's loader) and the same tiny
A1111-layout ControlNet (built by the engine from the file), 64x64, Euler, CFG 7, seed 1. The
engine side runs the unit's preprocessor ("none", the same prepared map), A1111's noise and
prompt handling, the step reports and the infotext; the bare side is
``StableDiffusionControlNetPipeline`` with the ControlNet and the map given directly.
Rounds alternate; prints the medians and the ratio (aim: at most 1.10x).
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.engine_bench import NullControl, alternate, print_side_by_side  # noqa: E402


def main(rounds: int = 15) -> None:
    import torch
    from diffusers import StableDiffusionControlNetPipeline
    from PIL import Image

    from engine.generation.control_units import EXTRA_KEY, ControlUnit
    from engine.generation.generate import generate
    from engine.generation.pipes import pipes_for
    from engine.generation.samplers import make_scheduler
    from engine.jobs import GenParams
    from engine.models.controlnet import build, unet_family
    from engine.models.loader import load_checkpoint
    from tests.engine.tinycontrolnets import write_tiny_controlnet
    from tests.engine.tinymodels import write_tiny_checkpoint

    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="maple-bench-cn-"))
    model = load_checkpoint(write_tiny_checkpoint(folder / "tiny.safetensors", "sd1"))
    cn_path = write_tiny_controlnet(folder / "control_v11p_sd15_canny.safetensors")
    hint = Image.new("RGB", (256, 256), "black")  # the tiny VAE's 32x32 latents: ControlNet reads 8x that
    hint.paste((255, 255, 255), (64, 64, 192, 192))
    buf = io.BytesIO()
    hint.save(buf, format="PNG")
    unit = ControlUnit(module="none", model=cn_path.stem, model_path=str(cn_path), image=buf.getvalue(),
                       resize_mode="Just Resize")
    params = GenParams(prompt="a photo of a cat", negative_prompt="blurry", seed=1, sampler_name="Euler",
                       steps=4, cfg_scale=7.0, width=64, height=64, extra={EXTRA_KEY: (unit,)})
    pipe = model.pipe
    net = build(cn_path, pipe.unet, unet_family(pipe.unet))
    bare: Any = StableDiffusionControlNetPipeline(**{k: v for k, v in pipe.components.items()
                                                if k not in ("image_encoder",)}, controlnet=net)
    bare.set_progress_bar_config(disable=True)
    scheduler = make_scheduler("Euler", "Automatic", pipes_for(model).base_config)

    def direct() -> None:
        bare.scheduler = scheduler
        bare(prompt=params.prompt, negative_prompt=params.negative_prompt, image=hint, width=64, height=64,
             num_inference_steps=4, guidance_scale=7.0, generator=torch.Generator("cpu").manual_seed(1))

    def engine() -> None:
        generate(model, params, NullControl())

    times = alternate({"direct": direct, "engine": engine}, rounds)  # its warm-up builds the engine's ControlNet
    print_side_by_side(("bare diffusers ControlNet pipeline", times["direct"]),
                       ("engine generate() with one unit", times["engine"]), "engine/bare")


if __name__ == "__main__":
    main()
