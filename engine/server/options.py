"""A1111's ``/options`` keys that Maple acts on: checked in the HTTP thread, the chosen model remembered.

``check_options`` validates a ``POST /options`` body before the worker applies it; picture-changing
settings Maple does not implement are refused at other values, the other keys are kept as sent, as
A1111 keeps them (its options hold hundreds of UI settings; see ``a1111_options``). ``remember_model``
keeps the chosen checkpoint in settings.json, so the next start loads it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import BadRequestError
from engine.server import a1111_options

if TYPE_CHECKING:
    from engine.models.registry import ModelRegistry

log = logging.getLogger(__name__)

VAE_BUILTIN = ("Automatic", "None")  # the checkpoint's own VAE; no VAE file


def check_options(changes: dict[str, Any], registry: ModelRegistry) -> dict[str, Any]:
    """The keys Maple acts on, checked (unknown names list what exists); raises with the field."""
    out: dict[str, Any] = {}
    if "sd_model_checkpoint" in changes:
        out["sd_model_checkpoint"] = _checkpoint(changes["sd_model_checkpoint"], registry)
    if "sd_vae" in changes:
        out["sd_vae"] = _vae(changes["sd_vae"], registry)
    if "CLIP_stop_at_last_layers" in changes:
        out["CLIP_stop_at_last_layers"] = _clip_skip(changes["CLIP_stop_at_last_layers"])
    if "randn_source" in changes:
        out["randn_source"] = a1111_options.randn_source(changes["randn_source"], "randn_source")
    if "eta_noise_seed_delta" in changes:
        out["eta_noise_seed_delta"] = a1111_options.eta_noise_seed_delta(changes["eta_noise_seed_delta"],
                                                                         "eta_noise_seed_delta")
    a1111_options.check_fixed(changes)
    return {**changes, **out}  # the keys Maple does not act on are kept as sent (a1111_options)


def _checkpoint(name: Any, registry: ModelRegistry) -> str:
    if not isinstance(name, str) or not name:
        raise BadRequestError.about("sd_model_checkpoint", "must be a model name")
    registry.find("checkpoint", name, "sd_model_checkpoint")
    return name


def _vae(name: Any, registry: ModelRegistry) -> str:
    if not isinstance(name, str):
        raise BadRequestError.about("sd_vae", "must be a VAE name, 'Automatic' or 'None'")
    if name not in VAE_BUILTIN:
        registry.find("vae", name, "sd_vae")
    return name


def _clip_skip(skip: Any) -> int:
    if isinstance(skip, bool) or not isinstance(skip, int | float) or not 1 <= int(skip) <= 12 or int(skip) != skip:
        raise BadRequestError.about("CLIP_stop_at_last_layers", "must be a whole number from 1 to 12")
    return int(skip)


def remember_model(settings_file: Path, name: str) -> None:
    """Keep the chosen checkpoint in settings.json (as A1111 does); never fails the switch itself."""
    from installer.settings import load_settings, save_settings

    try:
        loaded = load_settings(settings_file)
        settings = loaded.settings
        if loaded.problems:  # unreadable: leave it as it is rather than replace it with defaults
            log.warning("Not saving the chosen model: %s", "; ".join(loaded.problems))
        elif settings.model != name:
            settings.model = name
            save_settings(settings_file, settings)
    except Exception as exc:  # the switch itself worked: never fail it on the settings file
        log.warning("Could not save the chosen model in %s: %s", settings_file, exc)
