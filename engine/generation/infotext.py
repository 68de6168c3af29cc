"""A1111's infotext: the text in a PNG's ``parameters`` chunk, written and read.

Written as: the prompt, ``Negative prompt: ...`` if there is one, then one line of ``key: value``
pairs in A1111's order. A value containing ``,`` ``:`` ``"`` or a line break is written as a JSON
string. ``parse`` reads what A1111, Forge, SD.Next and Maple write (including the pre-1.9 sampler
names such as ``DPM++ 2M Karras``) into a dict of strings.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath
from typing import Any

from engine.generation import control_units
from engine.jobs import GenParams
from engine.models.loaded import LoadedModel
from engine.version import engine_version

_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE = re.compile(r"^(\d+)x(\d+)$")


def version() -> str:
    """The infotext's ``Version`` value: ``Maple 0.1.0``."""
    return f"Maple {engine_version()}"


def quote(value: Any) -> str:
    text = str(value)
    if any(c in text for c in ',:"\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


def number(value: float) -> str:
    """7.0 -> "7", 0.75 -> "0.75" (how A1111's infotexts show numbers from its sliders)."""
    return f"{value:g}" if float(value).is_integer() else repr(float(value))


def fields(params: GenParams, model: LoadedModel, seed: int, subseed: int = -1,
           ti_hashes: str | None = None) -> dict[str, Any]:
    """The ``key: value`` pairs, in A1111's order; ``None`` values are left out.

    ``subseed``: this image's variation seed; ``ti_hashes``: the embeddings' ``name: hash`` list.
    """
    hires = params.mode == "txt2img" and params.enable_hr
    denoise = params.mode == "img2img" or hires
    inpaint = params.mode == "img2img" and params.mask is not None
    vae = model.vae_name not in ("Automatic", "None", "", None)
    return {
        "Steps": params.steps,
        "Sampler": params.sampler_name,
        "Schedule type": params.scheduler,
        "CFG scale": number(params.cfg_scale),
        "Seed": seed,
        "Size": f"{params.width}x{params.height}",
        "Model hash": model.model_hash or None,
        "Model": PurePath(model.name).stem,
        "VAE hash": ((model.vae_sha256 or "")[:10] or None) if vae else None,
        "VAE": model.vae_name if vae else None,
        **variation_fields(params, subseed),
        "Denoising strength": number(params.denoising_strength) if denoise else None,
        "Clip skip": params.clip_skip if params.clip_skip > 1 else None,
        "ENSD": params.eta_noise_seed_delta if uses_ensd(params) else None,
        "RNG": params.randn_source if params.randn_source != "GPU" else None,  # A1111 leaves its default out
        "Eta DDIM": number(params.extra["eta"]) if params.extra.get("eta") else None,
        "Tiling": "True" if params.tiling else None,
        "Mask blur": params.mask_blur if inpaint else None,
        "Inpaint area": "Only masked" if inpaint and params.inpaint_full_res else None,
        "Masked area padding": params.extra.get("inpaint_full_res_padding", 32)
        if inpaint and params.inpaint_full_res else None,
        "Hires upscale": number(params.hr_scale) if hires else None,
        "Hires steps": params.hr_second_pass_steps if hires and params.hr_second_pass_steps else None,
        "Hires upscaler": params.hr_upscaler if hires else None,
        **control_units.infotext_fields(params),
        "Lora hashes": lora_hashes(params, model),
        "TI hashes": ti_hashes,
        "Version": version(),
    }


def variation_fields(params: GenParams, subseed: int) -> dict[str, Any]:
    """``Variation seed``, ``Variation seed strength`` and ``Seed resize from``, when in use."""
    varied = params.subseed_strength != 0
    resized = params.seed_resize_from_w > 0 and params.seed_resize_from_h > 0
    return {
        "Variation seed": subseed if varied else None,
        "Variation seed strength": number(params.subseed_strength) if varied else None,
        "Seed resize from": f"{params.seed_resize_from_w}x{params.seed_resize_from_h}" if resized else None,
    }


def lora_hashes(params: GenParams, model: LoadedModel) -> str | None:
    """``name: hash`` of each LoRA (the request's hash, else the one the loader computed)."""
    known = getattr(model, "lora_hashes", None) or {}
    hashes = [(ref.name, ref.short_hash or known.get(ref.name, "")) for ref in params.loras]
    return ", ".join(f"{name}: {short}" for name, short in hashes if short) or None


def prompt_with_loras(params: GenParams) -> str:
    """The prompt as the user wrote it: LoRA tags that were taken out are put back at the end."""
    tags = [f"<lora:{ref.name}:{number(ref.weight)}>" for ref in params.loras]
    missing = [tag for tag in tags if tag not in params.prompt]
    return " ".join([params.prompt, *missing]) if missing else params.prompt


def build(params: GenParams, model: LoadedModel, seed: int, subseed: int = -1,
          ti_hashes: str | None = None) -> str:
    """The infotext of one image (``seed`` and ``subseed`` are that image's own)."""
    pairs = ", ".join(f"{k}: {quote(v)}" for k, v in fields(params, model, seed, subseed, ti_hashes).items()
                      if v is not None)
    lines = [str(params.extra.get("original_prompt") or prompt_with_loras(params))]
    negative = str(params.extra.get("original_negative_prompt") or params.negative_prompt)
    if negative:
        lines.append(f"Negative prompt: {negative}")
    return "\n".join([*lines, pairs])


def parse(text: str) -> dict[str, str]:
    """An infotext -> ``{"Prompt", "Negative prompt", key: value, "Size-1", "Size-2", ...}``."""
    lines = text.strip().split("\n")
    last = lines[-1] if lines else ""
    if len(_PAIR.findall(last)) < 3:
        last = ""
    else:
        lines = lines[:-1]
    result = _prompts(lines)
    for key, value in _PAIR.findall(last):
        result.update(_pair(key.strip(), value.strip()))
    return _normalise(result)


def _prompts(lines: list[str]) -> dict[str, str]:
    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        if line.startswith("Negative prompt:"):
            negative.append(line[len("Negative prompt:"):].strip())
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)
    return {"Prompt": "\n".join(prompt).strip(), "Negative prompt": "\n".join(negative).strip()}


def _pair(key: str, value: str) -> dict[str, str]:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            value = str(json.loads(value))
        except ValueError:
            value = value[1:-1]
    size = _SIZE.match(value)
    if size is None:
        return {key: value}
    return {key: value, f"{key}-1": size.group(1), f"{key}-2": size.group(2)}


def _normalise(result: dict[str, str]) -> dict[str, str]:
    """Fill what older writers leave implicit, as A1111's reader does."""
    from engine.generation.samplers import split_legacy_name

    if "Sampler" in result and "Schedule type" not in result:
        result["Sampler"], result["Schedule type"] = split_legacy_name(result["Sampler"])
    result.setdefault("Clip skip", "1")
    result.setdefault("RNG", "GPU")  # no RNG: A1111's default noise source made it
    return result


def uses_ensd(params: GenParams) -> bool:
    """Whether ``eta_noise_seed_delta`` changed the picture: set, and an ancestral sampler (A1111's rule)."""
    from engine.generation.samplers import find_sampler

    if not params.eta_noise_seed_delta:
        return False
    return find_sampler(params.sampler_name).options.get("uses_ensd") == "True"


parse_infotext = parse
build_infotext = build
