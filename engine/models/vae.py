"""VAE choice: the checkpoint's own ("Automatic") or a file from models/VAE, and safe decoding.

A VAE file is read with ``AutoencoderKL.from_single_file`` and the loaded model's own VAE config
(so SD1 and SDXL VAEs get their scaling factors), offline. The checkpoint's VAE is kept aside while
another one is in use and comes back with "Automatic". An fp16 decode that gives NaN is done
again in fp32, and the VAE stays in fp32 from then on, as A1111 does. A picture too large to decode
whole is decoded tile by tile (``vae_tiling``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from engine.models import vae_tiling
from engine.models.configs import config_dir
from engine.models.errors import ModelLoadError, VaeError
from engine.models.loaded import LoadedModel
from engine.models.loader import file_sha256
from engine.models.placement import place

log = logging.getLogger(__name__)
AUTOMATIC = ("", "Automatic", "None", "auto", "automatic")


def apply_vae(model: LoadedModel, choice: str | Path | None) -> None:
    """Use the VAE file at ``choice``, or the checkpoint's own for None/"Automatic"/"None".

    On any error the VAE in use stays as it was and ``VaeError`` says why.
    """
    if choice is None or str(choice) in AUTOMATIC:
        _restore(model)
        return
    path = Path(choice)
    if model.vae_name == path.name and model.base_vae is not None:
        return
    vae = load_vae_file(path, model)
    if model.base_vae is None:
        model.base_vae = model.pipe.vae
    _install(model, vae)
    model.vae_name = path.name
    model.vae_sha256 = file_sha256(path)
    log.info("VAE %s in use for %s", path.name, model.name)


def load_vae_file(path: Path, model: LoadedModel) -> Any:
    from diffusers import AutoencoderKL

    if not path.is_file():
        raise VaeError(f"VAE file not found: {path}")
    folder = model.config_dir or config_dir(model.arch)
    try:
        vae = AutoencoderKL.from_single_file(str(path), config=str(folder), subfolder="vae",
                                             local_files_only=True, torch_dtype=model.dtype)
    except ModelLoadError:
        raise
    except Exception as exc:  # diffusers raises many types for a wrong or damaged file
        raise VaeError(f"{path.name} does not load as a VAE for {model.arch}: "
                       f"{exc.__class__.__name__}: {str(exc)[:300]}") from exc
    if any(p.is_meta for p in vae.parameters()):
        raise VaeError(f"{path.name} is missing VAE weights")
    return vae.eval()


def _restore(model: LoadedModel) -> None:
    if model.base_vae is not None:
        own, model.base_vae = model.base_vae, None
        _install(model, own)
    model.vae_name = "Automatic"
    model.vae_sha256 = None


def _install(model: LoadedModel, vae: Any) -> None:
    from engine.models.placement import use_sdpa

    pipe = model.pipe
    if model.vram_mode in ("medium", "low") and model.device is not None and model.device.type != "cpu":
        pipe.remove_all_hooks()
        pipe.register_modules(vae=vae)
        place(pipe, model.device, model.vram_mode)
    else:
        pipe.register_modules(vae=vae.to(model.device or "cpu"))
    use_sdpa(pipe)


def decode(vae: Any, latents: Any) -> Any:
    """Latents (already denoised) to images in [-1, 1], shape (B, 3, H, W)."""
    scaled = latents.to(dtype=vae.dtype) / vae.config.scaling_factor
    shift = getattr(vae.config, "shift_factor", None)
    if shift:
        scaled = scaled + shift
    return vae_tiling.decode(vae, scaled)


def decode_latents_safely(model: LoadedModel, latents: Any) -> Any:
    """Decode; if the result has NaN at half precision, switch the VAE to fp32 and decode again."""
    import torch

    vae = model.pipe.vae
    with torch.no_grad():
        images = decode(vae, latents.to(vae.device))
        if torch.isnan(images).any() and vae.dtype != torch.float32:
            log.warning("The VAE gave NaN at %s; decoding in fp32 from now on", vae.dtype)
            vae.to(dtype=torch.float32)
            images = decode(vae, latents.to(vae.device))
    return images
