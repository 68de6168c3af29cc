"""The worker's side: which model is loaded, options, and running a prepared generation.

Everything that changes the model runs in the worker thread. Listings read the registry's last
scan and are safe from HTTP threads.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.cli import EngineConfig
from engine.errors import EngineError
from engine.jobs import GenParams, GenResult, JobControl, LoraRef
from engine.server import api_models as m
from engine.server import listings
from engine.server.models import ModelManager
from engine.server.outputs import save_images
from engine.server.prepare import PreparedJob, prepare

if TYPE_CHECKING:
    from engine.server.timing import StartupTimer

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    images: list[Any]
    infotexts: list[str]
    info: dict[str, Any] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)

    def info_json(self) -> str:
        return json.dumps(self.info, ensure_ascii=False)


class Backend:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.models = ModelManager(config)
        self.clip_skip = 1

    # --- start-up (worker thread) ---
    def startup(self, timer: StartupTimer) -> None:
        self.models.startup(timer)

    # --- state the HTTP side reads ---
    @property
    def device_name(self) -> str:
        return self.models.choice.device if self.models.choice else self.config.device

    @property
    def precision_name(self) -> str:
        return self.models.choice.precision if self.models.choice else self.config.precision

    @property
    def vram_mode_name(self) -> str:
        choice, model = self.models.choice, self.models.model
        if choice is None:
            return self.config.vram_mode
        return choice.vram_mode_for(model.arch if model is not None else None)

    def current_title(self) -> str | None:
        return self.models.current_title()

    def is_demo(self) -> bool:
        return self.models.is_demo()

    def preview(self, latents: Any) -> Any:
        from engine.generation import preview

        model = self.models.model
        return preview.latents_to_image(latents, model.arch if model else "sd1")

    # --- listings ---
    def sd_models(self) -> list[m.SDModelItem]:
        return listings.sd_models(self.models)

    def sd_vaes(self) -> list[m.SDVaeItem]:
        return listings.sd_vaes(self.models)

    def loras(self) -> list[m.LoraItem]:
        return listings.loras(self.models)

    def samplers(self) -> list[m.SamplerItem]:
        return listings.samplers()

    def schedulers(self) -> list[m.SchedulerItem]:
        return listings.schedulers()

    def token_count(self, prompt: str) -> m.TokenCountResponse:
        from engine.prompts import conditioning

        tokens, chunks = conditioning.token_count(self.models.tokenizer(), prompt)
        return m.TokenCountResponse(tokens=tokens, chunks=chunks, limit=75 * chunks)

    # --- options ---
    def options(self) -> dict[str, Any]:
        return {
            "sd_model_checkpoint": self.current_title(),
            "sd_vae": self.models.vae_choice,
            "CLIP_stop_at_last_layers": self.clip_skip,
            "samples_save": True,
            "samples_format": "png",
            "outdir_txt2img_samples": str(self.config.home.outputs_dir / "txt2img-images"),
            "outdir_img2img_samples": str(self.config.home.outputs_dir / "img2img-images"),
            "sd_checkpoint_hash": self.models.model.sha256 if self.models.model else None,
        }

    def check_options(self, changes: dict[str, Any]) -> dict[str, Any]:
        return listings.check_options(changes, self.models)

    def apply_options(self, changes: dict[str, Any]) -> None:
        if "sd_model_checkpoint" in changes:
            self.models.select(changes["sd_model_checkpoint"])
            self._remember_model(self.models.selected)
        if "sd_vae" in changes:
            self.models.set_vae(changes["sd_vae"])
        if "CLIP_stop_at_last_layers" in changes:
            self.clip_skip = int(changes["CLIP_stop_at_last_layers"])

    def _remember_model(self, name: str) -> None:
        """Keep the chosen checkpoint in settings.json, so the next start loads it (as A1111 does)."""
        from installer.settings import load_settings, save_settings

        path = self.config.home.settings_file
        try:
            loaded = load_settings(path)
            settings = loaded.settings
            if loaded.problems:  # unreadable: leave it as it is rather than replace it with defaults
                log.warning("Not saving the chosen model: %s", "; ".join(loaded.problems))
            elif settings.model != name:
                settings.model = name
                save_settings(path, settings)
        except Exception as exc:  # the switch itself worked: never fail it on the settings file
            log.warning("Could not save the chosen model in %s: %s", path, exc)

    def refresh(self, kind: str) -> None:
        """Rescan the model folders (one scan covers checkpoints, VAEs and LoRAs)."""
        self.models.refresh()

    # --- generation ---
    def prepare(self, mode: str, req: m.GenerationRequest) -> PreparedJob:
        job = prepare(mode, req, self._resolve_lora, self.clip_skip)
        if job.checkpoint:
            self.models.find_checkpoint(job.checkpoint, "override_settings.sd_model_checkpoint")
        if job.vae:
            self.models.find_vae(job.vae, "override_settings.sd_vae")
        return job

    def _resolve_lora(self, ref: LoraRef) -> LoraRef:
        return self.models.find_lora(ref)

    def run(self, job: PreparedJob, control: JobControl) -> Outcome:
        """In the worker: switch model/VAE if asked, generate, save, describe."""
        self.models.switch(job.checkpoint or self.models.selected)
        if job.checkpoint and not job.restore_afterwards:
            self.models.selected = self.models.require_model().name
        self.models.apply_vae(job.vae if job.vae is not None else self.models.vae_choice)
        if job.vae is not None and not job.restore_afterwards:
            self.models.vae_choice = job.vae
        started = time.time()
        result = self.models.generate(job.params, control)
        paths = self._save(job, result)
        return Outcome(result.images, result.infotexts, self._info(job.params, result, started), paths)

    def _save(self, job: PreparedJob, result: GenResult) -> list[str]:
        if not job.save_images or not result.images:
            return []
        try:
            saved = save_images(self.config.home.outputs_dir, job.params.mode, result.images, result.seeds, result.infotexts)
        except OSError as exc:
            raise EngineError(f"Could not save the images: {exc}", "Check the disk space and the outputs folder's permissions.") from exc
        return [str(p) for p in saved]

    def _info(self, p: GenParams, result: GenResult, started: float) -> dict[str, Any]:
        return listings.info_dict(p, result, self.models.require_model(), started)
