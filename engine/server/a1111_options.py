"""A1111's settings (``/sdapi/v1/options`` and a request's ``override_settings``) as Maple keeps them.

Three sorts of keys:
- the ones Maple acts on (``ACTED_ON``): the checkpoint, VAE, clip skip, the noise source and eta
  noise seed delta, checked and applied (``engine.server.options``);
- picture-changing A1111 settings Maple does not implement (``FIXED``): they hold the value Maple
  runs (A1111's default, except ``return_grid``: Maple sends no grid image); any other value is
  refused with a 422 naming the key, so a client never believes a setting took effect when it did not;
- everything else (interface, saving, hundreds of extension settings): kept as sent and answered
  back, as A1111 does (webuiapi writes ``send_seed`` and reads it back). They live in
  ``<home>/a1111-options.json``, written atomically.

``GET /options`` answers A1111's keys: ``DEFAULTS`` (A1111's defaults where Maple behaves so), the
kept keys, then Maple's live values.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from engine.errors import BadRequestError

log = logging.getLogger(__name__)

ACTED_ON = ("sd_model_checkpoint", "sd_vae", "CLIP_stop_at_last_layers", "randn_source", "eta_noise_seed_delta")
RANDN_SOURCES = ("GPU", "CPU", "NV")
FILE_NAME = "a1111-options.json"

# A1111 settings that change the picture, at the only value Maple runs (A1111's default)
FIXED: dict[str, Any] = {
    "eta_ancestral": 1.0, "eta_ddim": 0.0, "s_churn": 0.0, "s_tmin": 0.0, "s_tmax": 0.0, "s_noise": 1.0,
    "s_min_uncond": 0.0, "sigma_min": 0.0, "sigma_max": 0.0, "rho": 0.0, "k_sched_type": "Automatic",
    "always_discard_next_to_last_sigma": False, "enable_quantization": False,
    "uni_pc_variant": "bh1", "uni_pc_skip_type": "time_uniform", "uni_pc_order": 3, "uni_pc_lower_order_final": True,
    "beta_dist_alpha": 0.6, "beta_dist_beta": 0.6, "sd_noise_schedule": "Default",
    "use_old_karras_scheduler_sigmas": False, "no_dpmpp_sde_batch_determinism": False,
    "use_old_emphasis_implementation": False, "enable_emphasis": True, "emphasis": "Original",
    "comma_padding_backtrack": 20, "use_old_scheduling": False, "dont_fix_second_order_samplers_schedule": False,
    "enable_batch_seeds": True, "pad_cond_uncond": False, "pad_cond_uncond_v0": False,
    "token_merging_ratio": 0.0, "token_merging_ratio_img2img": 0.0, "token_merging_ratio_hr": 0.0,
    "initial_noise_multiplier": 1.0, "img2img_extra_noise": 0.0, "img2img_color_correction": False,
    "img2img_fix_steps": False, "inpainting_mask_weight": 1.0,
    "sdxl_crop_top": 0, "sdxl_crop_left": 0, "sdxl_refiner_low_aesthetic_score": 2.5,
    "sdxl_refiner_high_aesthetic_score": 6.0, "sd_vae_encode_method": "Full", "sd_vae_decode_method": "Full",
    "face_restoration": False, "tiling": False, "sd_unet": "Automatic", "sd_hypernetwork": "None",
    "hires_fix_use_firstpass_conds": False, "use_old_hires_fix_width_height": False,
    "samples_format": "png", "enable_pnginfo": True, "return_grid": False,
}
# Other A1111 settings clients read, at A1111's defaults (Maple behaves so, or they only concern A1111's UI)
DEFAULTS: dict[str, Any] = {
    "samples_save": True, "save_to_dirs": True, "directories_filename_pattern": "[date]", "outdir_samples": "",
    "grid_save": False, "send_seed": True, "send_size": True, "do_not_show_images": False,
    "show_progressbar": True, "live_previews_enable": True, "show_progress_type": "Approx cheap", "auto_vae_precision": True, "sd_checkpoints_limit": 1,
    "quicksettings_list": ["sd_model_checkpoint"], "localization": "None", "add_model_hash_to_info": True,
    "add_model_name_to_info": True, "add_version_to_infotext": True, "lora_preferred_name": "Alias from file",
    "lora_add_hashes_to_infotext": True, "textual_inversion_add_hashes_to_infotext": True,
    "sd_vae_overrides_per_model_preferences": True, "cross_attention_optimization": "Automatic",
}


def check_fixed(changes: dict[str, Any], prefix: str = "") -> None:
    """Refuse a picture-changing setting Maple does not implement at any value but its own."""
    for key, value in changes.items():
        if key in FIXED and not _same(value, FIXED[key]):
            raise BadRequestError.about(
                f"{prefix}{key}",
                f"Maple does not implement other values of this setting: it always uses {FIXED[key]!r}, not {value!r}")


def _same(value: Any, fixed: Any) -> bool:
    if isinstance(fixed, bool) or isinstance(value, bool):
        return bool(value) == fixed and isinstance(value, bool | int)
    if isinstance(fixed, int | float) and isinstance(value, int | float):
        return float(value) == float(fixed)
    return bool(value == fixed)


def randn_source(value: Any, field: str) -> str:
    if not isinstance(value, str) or value.strip().upper() not in RANDN_SOURCES:
        raise BadRequestError.about(field, f"must be one of {', '.join(RANDN_SOURCES)} (got {value!r})")
    return value.strip().upper()


def eta_noise_seed_delta(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < 0:
        raise BadRequestError.about(field, f"must be a whole number, 0 or more (got {value!r})")
    return int(value)


class KeptOptions:
    """The settings Maple does not act on, as clients sent them, kept across restarts."""

    def __init__(self, home_root: Path) -> None:
        self.path = home_root / FILE_NAME
        self.values: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("Ignoring %s (%s); A1111 settings start from their defaults", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def update(self, changes: dict[str, Any]) -> None:
        """Keep ``changes`` (the model choice, VAE and clip skip are kept elsewhere; fixed ones need not be)."""
        kept = {k: v for k, v in changes.items() if k not in FIXED}
        if not kept:
            return
        self.values.update(kept)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self.values, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:  # the settings still hold until the engine stops
            log.warning("Could not save the A1111 settings to %s: %s", self.path, exc)

    def noise_settings(self) -> tuple[str, int]:
        """The kept ``randn_source`` and ``eta_noise_seed_delta`` (A1111's defaults if unusable)."""
        source, delta = self.values.get("randn_source", "GPU"), self.values.get("eta_noise_seed_delta", 0)
        try:
            return randn_source(source, "randn_source"), eta_noise_seed_delta(delta, "eta_noise_seed_delta")
        except BadRequestError as exc:
            log.warning("Ignoring the kept noise settings in %s: %s", self.path, exc)
            return "GPU", 0

    def answer(self, live: dict[str, Any]) -> dict[str, Any]:
        """``GET /options``: A1111's keys with Maple's values."""
        return {**DEFAULTS, **FIXED, **self.values, **live}
